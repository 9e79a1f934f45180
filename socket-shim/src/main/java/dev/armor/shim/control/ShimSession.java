package dev.armor.shim.control;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** One app process's shim, as its daemon sees it. */
public interface ShimSession {

  /** The app's process id, as the shim reported it. */
  long pid();

  /** The ARMOR id of the Execution ARMOR that launched the app, or empty for an app wrapped by hand. */
  String armorId();

  /** The node name the shim was configured with. */
  String node();

  /** True while the session connection is open: false once the app process is gone. */
  boolean isOpen();

  /**
   * Asks the shim to answer at once: completes true when it does, false when the session closes first (the
   * process died) or the timeout passes (the process is stopped or hung).
   */
  CompletableFuture<Boolean> ping(Duration timeout);

  /**
   * Tells the app, before the daemon connects to one of its rerouted listeners from 127.0.0.1:{@code daemonPort},
   * that this connection carries {@code client}, so its accept knows the real peer without asking. Call it before
   * connecting. Never blocks: nothing is sent when the app opened no PEERS connection, and a PEERS connection the
   * app does not keep up with is closed (its accepts then ask, as without it).
   */
  default void announcePeer(int daemonPort, InetSocketAddress client) {}
}
