package dev.armor.shim.control;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What a daemon answers to the shims of its node. {@link ShimControlServer} calls it on its own threads, one
 * request at a time per shim connection; a method may block (a bind waits for the FTM to register the service)
 * but must answer within the shim's request timeout (the agent's {@code timeout=}, 5 s by default), or the app's
 * call fails as if the daemon were unreachable.
 *
 * <p>Order: {@link #sessionOpened} returns before any query of that session is handed over, and {@link
 * #sessionClosed} is called at most once per session, only for sessions that opened, and not when the server
 * itself is closed. A runtime exception thrown by {@link #route}, {@link #bind} or {@link #listening} fails the
 * app's call (a {@code ConnectException} or {@code BindException} naming it) and is logged; one thrown by {@link
 * #peerOf} or {@link #unlistened} is logged and ignored by the shim; one thrown by {@link #sessionOpened} refuses
 * the session (the shim retries later).
 */
public interface ShimRequestHandler {

  /**
   * A shim of a new app process said hello: its session lasts as long as that process. It may also be an app the
   * daemon knew before it restarted: shims reconnect on their own (a protected app's shim halts its app instead,
   * unless fencing is off). {@link ShimSession#ping} may be called from here.
   */
  void sessionOpened(ShimSession session);

  /** The app process behind the session is gone: its session connection reached end of stream. */
  void sessionClosed(ShimSession session);

  /**
   * The shim of a protected app (one with an ARMOR id) beat: its process runs. Called on the session's thread
   * after the beat was acknowledged, every heartbeat interval per app, so it must be cheap and must not block.
   * The default ignores it.
   */
  default void heartbeat(ShimSession session, long beat) {}

  /**
   * How long the node's lease still runs, in milliseconds, told to a protected app with each heartbeat's answer (its
   * shim halts the app when it ends); -1 when the node holds none. Called on the session's thread: must not block.
   * The default: none.
   */
  default int nodeLeaseMillis() {
    return -1;
  }

  /** The app is connecting to {@code destination}: go direct, go through this daemon, or fail the connect. */
  Route route(ShimSession session, InetSocketAddress destination);

  /**
   * The app is binding a listening socket to {@code requested} (port not 0). {@link Verdict.Ok} lets the shim
   * bind 127.0.0.1:0 instead and report back with {@link #listening}; a failure becomes a {@code BindException}.
   * Asked only by shims of earlier versions: this shim goes straight to {@link #listening}, where the daemon decides
   * (one round trip per bind instead of two). The default lets the bind go ahead.
   */
  default Verdict bind(ShimSession session, InetSocketAddress requested) {
    return new Verdict.Ok();
  }

  /**
   * The rerouted bind succeeded: the app now listens on 127.0.0.1:{@code actualPort} for the service address
   * {@code requested}. The daemon registers the service before answering, so clients can find it when the
   * app's bind returns. A failure closes the listener and becomes a {@code BindException}.
   */
  Verdict listening(ShimSession session, InetSocketAddress requested, int actualPort);

  /** The app's listener for {@code requested} was closed by the app. */
  void unlistened(ShimSession session, InetSocketAddress requested);

  /**
   * The app accepted a connection from 127.0.0.1:{@code daemonPort}: if that is a connection the daemon made on
   * behalf of a remote client, the client's original address, so the app sees its real peer.
   */
  Optional<InetSocketAddress> peerOf(ShimSession session, int daemonPort);

  /** The answer to {@link #route}. */
  sealed interface Route {
    /** Not a protected service: connect directly, untouched. */
    record Direct() implements Route {}

    /** A protected service: connect to 127.0.0.1:{@code port} (this daemon) instead. */
    record Via(int port) implements Route {}

    /** Fail the connect with a {@code ConnectException} carrying {@code message}. */
    record Fail(String message) implements Route {}
  }

  /** The answer to {@link #bind} and {@link #listening}. */
  sealed interface Verdict {
    /** Go on. */
    record Ok() implements Verdict {}

    /** Fail the bind with a {@code BindException} carrying {@code message}. */
    record Fail(String message) implements Verdict {}
  }
}
