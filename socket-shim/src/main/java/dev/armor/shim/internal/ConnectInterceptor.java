package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Direct;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Via;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Decides every TCP connect of the app, called from {@code sun.nio.ch.Net.connect} (through the CONNECT hook)
 * with the address and port about to be connected. Its answer replaces them; the JDK callers recorded the
 * original destination beforehand, so {@code getRemoteAddress()} still shows what the app asked for.
 *
 * <p>No daemon round trip for UDP (datagram "connects" share {@code Net.connect}), for the daemon's own
 * listeners, or for a destination whose answer is cached.
 */
final class ConnectInterceptor {
  private final ShimConfig config;
  private final DaemonClient daemon;
  private final RouteCache routes;
  private final JdkInternals jdk;

  ConnectInterceptor(ShimConfig config, DaemonClient daemon, RouteCache routes, JdkInternals jdk) {
    this.config = config;
    this.daemon = daemon;
    this.routes = routes;
    this.jdk = jdk;
  }

  /**
   * The address to connect to instead of {@code remote:port}, or null to connect as asked.
   *
   * @throws ConnectException the daemon failed the connect, or cannot be asked
   */
  InetSocketAddress onConnect(InetAddress remote, int port) throws ConnectException {
    if (routes.isDaemonListener(remote, port) || Callers.isDatagramConnect()) {
      return null;
    }
    InetSocketAddress destination = new InetSocketAddress(remote, port);
    RouteCache.Known known = routes.get(destination);
    if (known != null) {
      return known.via();
    }
    return ask(destination);
  }

  /**
   * A connect of the app completed (called from the JDK where it learns so): fails a connection of the socket to
   * itself on one of the daemon's listener ports. When that listener is gone (the daemon died or closed it), a
   * connect to its port can draw the same port as its own source port, and TCP's simultaneous open connects the
   * socket to itself: the app would read back its own bytes as the service's. It is a connect nobody accepted, so
   * it fails as refused (the JDK then closes the socket), and the answers that led there are forgotten. Costs one
   * system call per completed connect when the daemon has given routes, none otherwise.
   *
   * @throws ConnectException the socket is connected to itself on a daemon listener's port
   */
  void onConnected(FileDescriptor fd) throws ConnectException {
    if (!routes.hasDaemonListeners()) {
      return;
    }
    InetSocketAddress remote;
    InetSocketAddress local;
    try {
      int port = jdk.remotePort(fd);
      if (!routes.isDaemonListenerPort(port)) {
        return;
      }
      remote = jdk.remoteAddress(fd);
      local = jdk.localAddress(fd);
    } catch (IOException e) {
      return; // not a connected socket after all: the JDK reports that itself
    }
    failIfSelfConnected(local, remote);
  }

  /** Whether any completed connect needs {@link #failIfSelfConnected}: only when the daemon has given routes. */
  boolean checksConnections() {
    return routes.hasDaemonListeners();
  }

  /**
   * The check of {@link #onConnected}, for a connection whose two ends are known.
   *
   * @throws ConnectException the socket is connected to itself on a daemon listener's port
   */
  void failIfSelfConnected(InetSocketAddress local, InetSocketAddress remote) throws ConnectException {
    if (remote.equals(local) && routes.isDaemonListener(remote.getAddress(), remote.getPort())) {
      routes.forgetVia(remote.getPort());
      throw Failures.connect(Failures.selfConnected(config, remote), null);
    }
  }

  private InetSocketAddress ask(InetSocketAddress destination) throws ConnectException {
    RouteQuery query = new RouteQuery(destination);
    ShimMessage answer;
    try {
      answer = daemon.ask(query);
    } catch (IOException e) {
      throw Failures.connect(Failures.notReachable(config, e), e);
    }
    if (answer instanceof Via via) {
      return routes.putVia(destination, via.port());
    } else if (answer instanceof Direct) {
      routes.putDirect(destination);
      return null;
    } else if (answer instanceof Fail fail) {
      throw Failures.connect(fail.message(), null);
    } else if (answer instanceof DaemonError error) {
      throw Failures.connect(error.message(), null);
    }
    throw Failures.connect(Failures.badAnswer(config, query, answer), null);
  }
}
