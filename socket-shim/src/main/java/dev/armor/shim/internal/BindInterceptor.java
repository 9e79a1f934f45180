package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.Listening;
import dev.armor.shim.control.ShimMessage.Ok;
import dev.armor.shim.control.ShimMessage.Unlistened;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.Channel;

/**
 * Reroutes the app's listening sockets: a bind to a service address (port not 0) becomes a bind to 127.0.0.1:0,
 * where only the daemon connects, and the daemon's consent. Two steps, each a hook around the JDK's bind:
 *
 * <ol>
 *   <li>before: swap the address for 127.0.0.1:0 (nothing is asked yet);
 *   <li>after: make sure the socket listens, report {@code listening(requested, actualPort)} (the daemon registers
 *       the service before answering, so clients can find it when the app's bind returns; a refusal closes the
 *       socket and becomes the app's {@code BindException}), and make the socket report the requested address and
 *       port to the app.
 * </ol>
 *
 * One question to the daemon per bind, not two: the daemon decides everything (conflicts included) when it
 * registers the service, so asking {@code bind(requested)} first only cost a round trip (a millisecond or more on
 * a loaded host); the daemon still answers that query for shims of earlier versions. If the daemon cannot be
 * reached, the JDK's bind to 127.0.0.1:0 is undone and the app gets the same {@code BindException} as before.
 *
 * <p>For {@code ServerSocket} ({@code NioSocketImpl}) the JDK calls {@code listen} only after {@code bind} returns, so
 * the second step listens early (backlog 50); the app's own {@code listen} then just sets its backlog.
 * {@code ServerSocketChannel} binds and listens in one call. A bind to port 0 is never seen here.
 */
final class BindInterceptor {
  private static final int EARLY_BACKLOG = 50;

  private final ShimConfig config;
  private final DaemonClient daemon;
  private final ListenerRegistry listeners;
  private final JdkInternals jdk;

  BindInterceptor(ShimConfig config, DaemonClient daemon, ListenerRegistry listeners, JdkInternals jdk) {
    this.config = config;
    this.daemon = daemon;
    this.listeners = listeners;
    this.jdk = jdk;
  }

  /** SOCKET_BIND hook: what a server {@code SocketImpl} binds instead of {@code host:port}; never null. */
  InetSocketAddress onSocketBind(InetAddress host, int port) {
    return Loopback.ANY_PORT;
  }

  /** SOCKET_BOUND hook: the rerouted {@code SocketImpl} is bound to 127.0.0.1:{@code actualPort}. */
  void onSocketBound(Object impl, FileDescriptor fd, InetSocketAddress requested, int actualPort) throws IOException {
    try {
      jdk.listen(fd, EARLY_BACKLOG);
      reportListening(requested, actualPort);
    } catch (IOException e) {
      closeQuietly(() -> jdk.closeSocketImpl(impl));
      throw e;
    }
    listeners.add(impl, requested, actualPort);
  }

  /**
   * CHANNEL_BIND hook: what a {@code ServerSocketChannel} binds instead of {@code local}, or null to leave the
   * bind alone (port 0, no address, or not an internet address).
   */
  SocketAddress onChannelBind(SocketAddress local) {
    if (!(local instanceof InetSocketAddress requested) || requested.getPort() == 0 || requested.isUnresolved()) {
      return null;
    }
    return Loopback.ANY_PORT;
  }

  /** CHANNEL_BOUND hook: the rerouted channel listens on {@code actual}; returns what it should report instead. */
  SocketAddress onChannelBound(Object channel, SocketAddress requested, SocketAddress actual) throws IOException {
    InetSocketAddress service = (InetSocketAddress) requested;
    int actualPort = ((InetSocketAddress) actual).getPort();
    try {
      reportListening(service, actualPort);
    } catch (IOException e) {
      closeQuietly(((Channel) channel)::close);
      throw e;
    }
    listeners.add(channel, service, actualPort);
    return service;
  }

  /** LISTENER_CLOSED hook: a server socket or channel is closing; tell the daemon if it was rerouted. */
  void onListenerClosed(Object owner) {
    ListenerRegistry.Listener listener = listeners.removeOwnedBy(owner);
    if (listener == null) {
      return;
    }
    try {
      daemon.ask(new Unlistened(listener.requested()));
    } catch (IOException | RuntimeException e) {
      Log.get().log(Level.DEBUG, () -> "could not tell " + config.daemonName() + " that "
          + listener.requested() + " closed: " + e);
    }
  }

  /** Asks the daemon to register {@code requested}, served by the app's listener on 127.0.0.1:{@code actualPort}. */
  void reportListening(InetSocketAddress requested, int actualPort) throws BindException {
    daemon.openPeerFeed(); // before the daemon can connect to the listener: its first connection is announced too
    verdict(new Listening(requested, actualPort));
  }

  private void verdict(ShimMessage query) throws BindException {
    ShimMessage answer;
    try {
      answer = daemon.ask(query);
    } catch (IOException e) {
      throw Failures.bind(Failures.notReachable(config, e), e);
    }
    if (answer instanceof Ok) {
      return;
    } else if (answer instanceof Fail fail) {
      throw Failures.bind(fail.message(), null);
    } else if (answer instanceof DaemonError error) {
      throw Failures.bind(error.message(), null);
    }
    throw Failures.bind(Failures.badAnswer(config, query, answer), null);
  }

  private interface Closer {
    void close() throws IOException;
  }

  private static void closeQuietly(Closer closer) {
    try {
      closer.close();
    } catch (IOException | RuntimeException e) {
      Log.get().log(Level.DEBUG, () -> "closing a refused listener failed: " + e);
    }
  }
}
