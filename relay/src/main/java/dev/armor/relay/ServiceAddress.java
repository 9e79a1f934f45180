package dev.armor.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** A service address: the IP and port a protected server asked to bind, and that its clients connect to. */
public record ServiceAddress(String host, int port) {

  public ServiceAddress {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("service address host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("service address port must be in 1..65535, but was " + port);
    }
  }

  /** Parses {@code host:port}; the host must be a literal IP address. */
  public static ServiceAddress parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("service address must be HOST:PORT, but was '" + text + "'");
    }
    try {
      return new ServiceAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("service address port is not a number in '" + text + "'");
    }
  }

  public static ServiceAddress of(InetSocketAddress address) {
    return new ServiceAddress(address.getAddress().getHostAddress(), address.getPort());
  }

  public InetSocketAddress toSocketAddress() {
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("service address host is not an IP: " + host, e);
    }
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
