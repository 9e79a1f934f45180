package dev.armor.relay.internal;

/**
 * How each direction of a client connection ends (TCP half-close), apart from the connection's attempt and link
 * lifecycle. Towards the server: the client app ends its output ({@link ToServer#APP_ENDED}), then the FIN goes out
 * on the current link ({@link ToServer#FIN_SENT}). Towards the client app: the server's FIN comes in on the current
 * link, then the app's output is shut once everything before the FIN was written to it. The connection closes
 * normally when both are done.
 *
 * <p>What belongs to a link (the FIN sent, the FIN received) starts over on each link the connection is re-attached
 * to: the new instance has seen neither. What belongs to the app (its output ended, its input shut) stays, until a
 * restarted client app adopts the connection.
 */
final class HalfClose {

  /** The direction towards the server. */
  enum ToServer {
    /** The client app may still send. */
    OPEN,
    /** The client app ended its output; the FIN has not gone out on the current link yet. */
    APP_ENDED,
    /** ... and it went out on the current link: nothing more goes to the server. */
    FIN_SENT
  }

  private ToServer toServer = ToServer.OPEN;
  /** The server's FIN arrived on the current link. */
  private boolean serverFinReceived;
  /** The client app's output is shut, after everything before the server's FIN was written to it. */
  private boolean appOutputShut;

  ToServer toServer() {
    return toServer;
  }

  /** The client app ended its output (on this link or an earlier one). */
  boolean appEnded() {
    return toServer != ToServer.OPEN;
  }

  /** The FIN went out on the current link. */
  boolean finSent() {
    return toServer == ToServer.FIN_SENT;
  }

  boolean serverFinReceived() {
    return serverFinReceived;
  }

  boolean appOutputShut() {
    return appOutputShut;
  }

  /** Both FINs crossed the current link: a link that closes now ends the connection normally, not with a loss. */
  boolean linkDone() {
    return finSent() && serverFinReceived;
  }

  /** Both directions are done: the connection closes normally. */
  boolean bothDone() {
    return linkDone() && appOutputShut;
  }

  void onAppEnded() {
    if (toServer == ToServer.OPEN) {
      toServer = ToServer.APP_ENDED;
    }
  }

  /** The FIN went out on the current link; only after the app ended its output. */
  void onFinSent() {
    if (toServer == ToServer.OPEN) {
      throw new IllegalStateException("a FIN before the client app ended its output");
    }
    toServer = ToServer.FIN_SENT;
  }

  void onServerFin() {
    serverFinReceived = true;
  }

  void onAppOutputShut() {
    appOutputShut = true;
  }

  /** The connection moves to a new link: a FIN already sent must go out again there, none has come in on it. */
  void onNewLink() {
    if (toServer == ToServer.FIN_SENT) {
      toServer = ToServer.APP_ENDED;
    }
    serverFinReceived = false;
  }

  /**
   * A restarted client app adopted the connection: both of its directions are open. (The crash watch that leads to
   * an adoption starts only while neither FIN has crossed the link, so nothing of the link's is lost here.)
   */
  void onNewApp() {
    toServer = ToServer.OPEN;
    appOutputShut = false;
  }
}
