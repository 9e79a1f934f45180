package dev.armor.shim.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The literal 127.0.0.1 that every rewritten connect and bind uses: dual-stack sockets reach it, IPv4-only sockets
 * cannot reach ::1 (so never {@code InetAddress.getLoopbackAddress()}, which is ::1 when IPv6 is preferred).
 */
final class Loopback {
  static final InetAddress IPV4 = ipv4();

  /** 127.0.0.1:0, what a rerouted listener binds instead of the address the app asked for. */
  static final InetSocketAddress ANY_PORT = new InetSocketAddress(IPV4, 0);

  private Loopback() {}

  /** True for 127.0.0.0/8 and ::1 (the JDK already turns IPv4-mapped addresses into IPv4 ones). */
  static boolean isLoopback(InetAddress address) {
    return address != null && address.isLoopbackAddress();
  }

  private static InetAddress ipv4() {
    try {
      return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new AssertionError("four bytes are a valid IPv4 address", e);
    }
  }
}
