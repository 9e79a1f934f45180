package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.Peer;
import dev.armor.shim.control.ShimMessage.PeerQuery;
import java.io.FileDescriptor;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/**
 * Makes a connection accepted on a rerouted listener report the remote client's address rather than the
 * daemon's 127.0.0.1:p: the daemon announced it on the PEERS connection before connecting ({@link PeerFeed}), or,
 * when it did not, the shim asks {@code peerOf(p)}. And its own address as the service's (what the client
 * connected to: the address the app bound, or for a wildcard bind the node's, the {@code host} agent argument)
 * rather than the rerouted listener's 127.0.0.1. Only for rerouted listeners and loopback peers, so ordinary
 * accepts cost nothing. Best effort: any failure leaves the accepted socket as it is and never breaks the accept.
 */
final class AcceptInterceptor {
  private final DaemonClient daemon;
  private final ListenerRegistry listeners;
  private final JdkInternals jdk;
  private final Optional<InetAddress> nodeAddress;
  /** Accepted sockets (their {@code SocketImpl}s) and the local address each reports; entries go with the socket. */
  private final Map<Object, InetAddress> acceptedLocal = Collections.synchronizedMap(new WeakHashMap<>());

  AcceptInterceptor(
      DaemonClient daemon, ListenerRegistry listeners, JdkInternals jdk, Optional<InetAddress> nodeAddress) {
    this.daemon = daemon;
    this.listeners = listeners;
    this.jdk = jdk;
    this.nodeAddress = nodeAddress;
  }

  /** SOCKET_ACCEPTED hook: {@code acceptedImpl} was just filled in by {@code NioSocketImpl.accept}. */
  void onSocketAccepted(Object acceptedImpl) {
    try {
      ListenerRegistry.Listener listener = listeners.find(jdk.localPort(acceptedImpl));
      InetAddress peerAddress = jdk.address(acceptedImpl);
      if (listener == null || !Loopback.isLoopback(peerAddress)) {
        return;
      }
      InetSocketAddress peer = peerOf(jdk.port(acceptedImpl));
      jdk.setPeer(acceptedImpl, peer != null ? peer : new InetSocketAddress(peerAddress, jdk.port(acceptedImpl)),
          listener.requested().getPort());
      InetSocketAddress local = serviceAddress(listener);
      if (local != null) {
        acceptedLocal.put(acceptedImpl, local.getAddress());
      }
    } catch (Exception | LinkageError t) {
      Log.get().log(Level.DEBUG, () -> "could not find the real peer of an accepted socket: " + t);
    }
  }

  /** CHANNEL_ACCEPTED hook: the peer a {@code ServerSocketChannel}'s accepted channel should report. */
  SocketAddress onChannelAccepted(FileDescriptor acceptedFd, SocketAddress peer) {
    try {
      if (!(peer instanceof InetSocketAddress loopbackPeer) || !Loopback.isLoopback(loopbackPeer.getAddress())) {
        return peer;
      }
      if (listeners.find(jdk.localAddress(acceptedFd).getPort()) == null) {
        return peer;
      }
      InetSocketAddress real = peerOf(loopbackPeer.getPort());
      return real != null ? real : peer;
    } catch (Exception | LinkageError t) {
      Log.get().log(Level.DEBUG, () -> "could not find the real peer of an accepted channel: " + t);
      return peer;
    }
  }

  /** SOCKET_LOCAL_ADDRESS hook: what {@code getOption(SO_BINDADDR)} of {@code socketImpl} answers. */
  Object onSocketLocalAddress(Object socketImpl, Object address) {
    if (acceptedLocal.isEmpty()) {
      return address;
    }
    InetAddress reported = acceptedLocal.get(socketImpl);
    return reported != null ? reported : address;
  }

  /**
   * CHANNEL_ACCEPTED_LOCAL hook: {@code channel} was just accepted; nobody else has it yet. Its own local address (read
   * by its constructor) names the listener: no second system call.
   */
  void onChannelAcceptedLocal(Object channel) {
    try {
      if (listeners.isEmpty()) {
        return;
      }
      InetSocketAddress real = jdk.localAddressOf(channel);
      ListenerRegistry.Listener listener = real == null ? null : listeners.find(real.getPort());
      InetSocketAddress local = listener == null ? null : serviceAddress(listener);
      if (local != null) {
        jdk.setLocalAddress(channel, local);
      }
    } catch (Exception | LinkageError t) {
      Log.get().log(Level.DEBUG, () -> "could not set the local address of an accepted channel: " + t);
    }
  }

  /** The address clients of {@code listener} connect to, or null if the shim does not know it. */
  InetSocketAddress serviceAddress(ListenerRegistry.Listener listener) {
    InetSocketAddress requested = listener.requested();
    if (requested.getAddress() != null && !requested.getAddress().isAnyLocalAddress()) {
      return requested;
    }
    return nodeAddress.map(host -> new InetSocketAddress(host, requested.getPort())).orElse(null);
  }

  /** The real client of the daemon's connection from 127.0.0.1:{@code daemonPort}, or null if not known. */
  InetSocketAddress peerOf(int daemonPort) {
    InetSocketAddress announced = daemon.announcedPeer(daemonPort);
    if (announced != null) {
      return announced;
    }
    try {
      ShimMessage answer = daemon.ask(new PeerQuery(daemonPort));
      return answer instanceof Peer peer ? peer.address() : null;
    } catch (Exception e) {
      Log.get().log(Level.DEBUG, () -> "peerOf(" + daemonPort + ") failed: " + e);
      return null;
    }
  }
}
