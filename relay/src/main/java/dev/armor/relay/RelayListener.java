package dev.armor.relay;

import java.net.InetSocketAddress;

/**
 * Events the relay reports to its daemon. Called on relay (event-loop) threads: implementations must not block;
 * the daemon turns each call into a message to its actor.
 */
public interface RelayListener {

  /** A client app connected to the listener of {@code service}, and the relay does not know where it is served. */
  void locationNeeded(ServiceAddress service);

  /** A proxied connection was attached to a server (first time or again after a recovery). */
  void connectionAttached(ConnectionInfo connection);

  /**
   * The server side of a client's connection was lost (server crashed, or its daemon dropped the link): the
   * connection is held open towards the client until {@link Relay#serviceLocated} says where to re-attach it.
   */
  void connectionHeld(ConnectionInfo connection, String reason);
  // Also called when a protected client's app died and its connection is kept for the restarted instance
  // (state ORPHANED): the reason says so.

  /** A proxied connection ended, normally or not; {@code reason} says which in an operator's words. */
  void connectionClosed(ConnectionInfo connection, String reason);

  /** Convenience for tests and for daemons that do not care about some events. */
  RelayListener NONE =
      new RelayListener() {
        @Override
        public void locationNeeded(ServiceAddress service) {}

        @Override
        public void connectionAttached(ConnectionInfo connection) {}

        @Override
        public void connectionHeld(ConnectionInfo connection, String reason) {}

        @Override
        public void connectionClosed(ConnectionInfo connection, String reason) {}
      };

  /** Where a held connection's app is, for logging. */
  static String describe(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }
}
