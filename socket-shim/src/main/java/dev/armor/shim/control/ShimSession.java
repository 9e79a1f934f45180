package dev.armor.shim.control;

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
}
