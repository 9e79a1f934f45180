package dev.armor.relay;

import java.net.InetSocketAddress;

/**
 * Told by the server-side relay, just before it connects to a local server app from 127.0.0.1:{@code localPort},
 * which client that connection carries. The daemon passes it on to the app's shim, which then knows the real peer
 * of the connection it accepts without asking ({@link Relay#clientOfLocalPort} remains the answer when it does
 * ask). Runs on a relay event loop: it must not block.
 */
@FunctionalInterface
public interface ClientAnnouncer {

  /** Announces nothing. */
  ClientAnnouncer NONE = (localPort, client) -> {};

  void connecting(int localPort, InetSocketAddress client);

  /**
   * On the direct path ({@link RelayConfig.DataPath#DIRECT}): the client's daemon is about to connect to the app from
   * {@code from} (its own address), carrying {@code client}. The default announces nothing: the app's accept asks
   * ({@link Relay#clientOfPeer}).
   */
  default void connectingFrom(InetSocketAddress from, InetSocketAddress client) {}
}
