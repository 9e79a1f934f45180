package dev.armor.shim.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The sockets of Netty's native transports (epoll; io_uring's binds too), called from {@code
 * io.netty.channel.unix.Socket} and {@code FileDescriptor} (any copy, shaded ones included: the advice is matched
 * by the end of the class name). Netty opens these sockets in C, past the JDK's {@code sun.nio.ch}, but every
 * connect, bind, listen and accept of its epoll transport goes through those Java methods first, so the same
 * decisions as for the JDK's sockets apply there: a connect goes where the daemon says ({@link ConnectInterceptor}),
 * a bind to a service address becomes a bind to 127.0.0.1:0 registered with the daemon when the socket listens
 * ({@link BindInterceptor}), an accepted connection reports the real client and the service address ({@link
 * AcceptInterceptor}), a close unregisters.
 *
 * <p>Netty binds, then reads its local address, then listens: so a rerouted socket is pending from its bind
 * (reporting the requested address already) until it listens, when the daemon is asked; a refusal is thrown from
 * {@code listen} as the bind's {@code BindException}, and Netty fails the app's bind with it.
 *
 * <p>Netty's classes are the app's, not the shim's: their methods are called reflectively, once per class looked
 * up. A UDP socket's "connect" passes {@code Socket.connect} too and is told apart by its type ({@code SO_TYPE}).
 */
final class NettyInterceptor {
  /** Linux's {@code SOL_SOCKET}, {@code SO_TYPE} and {@code SOCK_STREAM}. */
  private static final int SOL_SOCKET = 1;
  private static final int SO_TYPE = 3;
  private static final int SOCK_STREAM = 1;

  /** A socket bound in place of {@code requested}, to 127.0.0.1:{@code actualPort}, that does not listen yet. */
  private record Pending(InetSocketAddress requested, int actualPort) {}

  /** A socket whose connect to {@code destination} went to the daemon's listener {@code via} instead. */
  private record Rerouted(InetSocketAddress destination, InetSocketAddress via) {}

  private final ConnectInterceptor connect;
  private final BindInterceptor bind;
  private final AcceptInterceptor accept;
  private final ListenerRegistry listeners;
  /** Netty's {@code FileDescriptor} compares by descriptor number, which is reused: these maps are by identity. */
  private final Map<Object, Pending> pending = Collections.synchronizedMap(new IdentityHashMap<>());
  private final Map<Object, ListenerRegistry.Listener> listening =
      Collections.synchronizedMap(new IdentityHashMap<>());
  /** Sockets whose connect was rerouted: they report the destination the app asked for as their remote address. */
  private final Map<Object, Rerouted> rerouted = Collections.synchronizedMap(new IdentityHashMap<>());
  private final ClassValue<SocketMethods> methods = new ClassValue<>() {
    @Override
    protected SocketMethods computeValue(Class<?> type) {
      return SocketMethods.of(type);
    }
  };

  NettyInterceptor(ConnectInterceptor connect, BindInterceptor bind, AcceptInterceptor accept,
      ListenerRegistry listeners) {
    this.connect = connect;
    this.bind = bind;
    this.accept = accept;
    this.listeners = listeners;
  }

  /**
   * NETTY_CONNECT hook: the address a Netty socket connects to instead of {@code remote}, or null to connect as asked.
   *
   * @throws ConnectException the daemon failed the connect, or cannot be asked
   */
  SocketAddress onConnect(Object socket, SocketAddress remote) throws ConnectException {
    if (!(remote instanceof InetSocketAddress destination) || destination.isUnresolved() || !isStream(socket)) {
      return null;
    }
    InetSocketAddress via = connect.onConnect(destination.getAddress(), destination.getPort());
    if (via != null) {
      rerouted.put(socket, new Rerouted(destination, via));
    }
    return via;
  }

  /** NETTY_REMOTE_ADDRESS hook: the remote address {@code socket} reports: the app's destination if rerouted. */
  InetSocketAddress onRemoteAddress(Object socket, InetSocketAddress actual) {
    if (actual == null || rerouted.isEmpty()) {
      return actual;
    }
    Rerouted rerouting = rerouted.get(socket);
    return rerouting != null ? rerouting.destination() : actual;
  }

  /**
   * NETTY_CONNECTED hook: a Netty socket's connect completed.
   *
   * @throws ConnectException the socket is connected to itself on a daemon listener's port
   */
  void onConnected(Object socket) throws ConnectException {
    if (!connect.checksConnections()) {
      return;
    }
    Rerouted rerouting = rerouted.get(socket);
    if (rerouting == null) {
      return; // not rerouted: not connected to a daemon listener
    }
    // connected, so its remote end is the listener it was sent to (its remoteAddress() reports the destination)
    SocketMethods of = methods.get(socket.getClass());
    InetSocketAddress local = of.address(socket, of.localAddress);
    if (local != null) {
      connect.failIfSelfConnected(plain(local), rerouting.via());
    }
  }

  /**
   * NETTY_BIND hook: what a Netty socket binds instead of {@code local}, or null to leave the bind alone. Only a
   * server channel's bind is rerouted (as for the JDK's {@code ServerSocketChannel}); a client channel that binds a
   * local address before it connects keeps it. {@code Socket} is the same class for both, so its caller tells.
   */
  SocketAddress onBind(SocketAddress local) {
    if (!(local instanceof InetSocketAddress) || !Callers.isNettyServerBind()) {
      return null;
    }
    return bind.onChannelBind(local);
  }

  /** NETTY_BOUND hook: a rerouted bind of {@code socket} returned; it reports {@code requested} from now on. */
  void onBound(Object socket, SocketAddress requested) {
    SocketMethods of = methods.get(socket.getClass());
    InetSocketAddress actual = of.address(socket, of.localAddress); // not yet pending: the real one
    if (actual != null) {
      pending.put(socket, new Pending((InetSocketAddress) requested, actual.getPort()));
    }
  }

  /**
   * NETTY_LISTENING hook: {@code socket} listens; a rerouted one is registered with the daemon now.
   *
   * @throws java.net.BindException the daemon refused the service address, or cannot be asked
   */
  void onListening(Object socket) throws IOException {
    Pending bound = pending.remove(socket);
    if (bound == null) {
      return;
    }
    bind.reportListening(bound.requested(), bound.actualPort());
    listeners.add(socket, bound.requested(), bound.actualPort());
    listening.put(socket, listeners.find(bound.actualPort()));
  }

  /** NETTY_LOCAL_ADDRESS hook: the local address {@code socket} reports instead of {@code actual}. */
  InetSocketAddress onLocalAddress(Object socket, InetSocketAddress actual) {
    if (actual == null || (pending.isEmpty() && listening.isEmpty())) {
      return actual;
    }
    Pending bound = pending.get(socket);
    if (bound != null) {
      return bound.requested();
    }
    ListenerRegistry.Listener listener = listening.get(socket);
    if (listener != null) {
      return listener.requested();
    }
    if (!isLoopback(actual.getAddress()) || (listener = listeners.find(actual.getPort())) == null) {
      return actual;
    }
    InetSocketAddress service = accept.serviceAddress(listener); // a connection accepted on a rerouted listener
    return service != null ? service : actual;
  }

  /**
   * NETTY_ACCEPTED hook: {@code listener} accepted a connection whose peer Netty reads from {@code address} (a
   * length byte, then the address, the scope id for IPv6, and the port, big-endian; an IPv4-mapped peer as IPv4): the real client's there instead
   * of the daemon's 127.0.0.1 one. Best effort: any failure leaves the peer as it is.
   */
  void onAccepted(Object listener, byte[] address) {
    if (listening.isEmpty() || !listening.containsKey(listener)) {
      return;
    }
    try {
      InetSocketAddress peer = peerIn(address, address[0]);
      if (peer == null || !isLoopback(peer.getAddress())) {
        return;
      }
      InetSocketAddress real = accept.peerOf(peer.getPort());
      if (real != null) {
        writePeer(address, real);
      }
    } catch (RuntimeException e) {
      Log.get().log(Level.DEBUG, () -> "could not find the real peer of an accepted Netty connection: " + e);
    }
  }

  /** NETTY_CLOSED hook: a Netty file descriptor closes; a rerouted listener is unregistered. */
  void onClosed(Object fileDescriptor) {
    if (pending.isEmpty() && listening.isEmpty() && rerouted.isEmpty()) {
      return;
    }
    rerouted.remove(fileDescriptor);
    pending.remove(fileDescriptor);
    if (listening.remove(fileDescriptor) != null) {
      bind.onListenerClosed(fileDescriptor);
    }
  }

  private boolean isStream(Object socket) {
    SocketMethods of = methods.get(socket.getClass());
    try {
      return of.getIntOpt == null || (int) of.getIntOpt.invoke(socket, SOL_SOCKET, SO_TYPE) == SOCK_STREAM;
    } catch (IllegalAccessException | InvocationTargetException e) {
      return true; // as a TCP socket: a UDP one fails its connect to the daemon's TCP listener plainly
    }
  }

  /** 127.0.0.0/8, ::1, and ::ffff:127.x.y.z (Netty's dual-stack sockets report IPv4 peers that way). */
  static boolean isLoopback(InetAddress address) {
    return Loopback.isLoopback(address)
        || (address instanceof Inet6Address && isMapped(address.getAddress()) && address.getAddress()[12] == 127);
  }

  /** An IPv4-mapped IPv6 address as the IPv4 one (how the JDK's own sockets report it), else as it is. */
  static InetSocketAddress plain(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    if (!(ip instanceof Inet6Address) || !isMapped(ip.getAddress())) {
      return address;
    }
    byte[] bytes = ip.getAddress();
    try {
      return new InetSocketAddress(
          InetAddress.getByAddress(new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]}), address.getPort());
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError("four bytes are a valid IPv4 address", e);
    }
  }

  private static boolean isMapped(byte[] bytes) {
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
  }

  /** The peer in Netty's accepted-address array, or null for a layout this does not know. */
  static InetSocketAddress peerIn(byte[] address, int length) {
    try {
      if (length == 8) {
        return new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOfRange(address, 1, 5)),
            readInt(address, 5));
      } else if (length == 24) {
        return plain(new InetSocketAddress(
            Inet6Address.getByAddress(null, java.util.Arrays.copyOfRange(address, 1, 17), readInt(address, 17)),
            readInt(address, 21)));
      }
    } catch (java.net.UnknownHostException e) {
      return null;
    }
    return null;
  }

  /**
   * Writes {@code peer} into Netty's accepted-address array, in the layout Netty's native code uses for it (an IPv4
   * peer in 8 bytes, also on a dual-stack socket; an IPv6 one in 24), with the length byte first.
   */
  static void writePeer(byte[] address, InetSocketAddress peer) {
    byte[] ip = peer.getAddress().getAddress();
    if (ip.length == 4 && address.length >= 9) {
      address[0] = 8;
      System.arraycopy(ip, 0, address, 1, 4);
      writeInt(address, 5, peer.getPort());
    } else if (ip.length == 16 && address.length >= 25) {
      address[0] = 24;
      System.arraycopy(ip, 0, address, 1, 16);
      writeInt(address, 17, ((Inet6Address) peer.getAddress()).getScopeId());
      writeInt(address, 21, peer.getPort());
    }
  }

  private static int readInt(byte[] bytes, int at) {
    return (bytes[at] & 0xff) << 24 | (bytes[at + 1] & 0xff) << 16 | (bytes[at + 2] & 0xff) << 8
        | bytes[at + 3] & 0xff;
  }

  private static void writeInt(byte[] bytes, int at, int value) {
    bytes[at] = (byte) (value >>> 24);
    bytes[at + 1] = (byte) (value >>> 16);
    bytes[at + 2] = (byte) (value >>> 8);
    bytes[at + 3] = (byte) value;
  }

  /** The public methods of a Netty {@code Socket} class that the hooks call; null where a version lacks one. */
  private record SocketMethods(Method localAddress, Method getIntOpt) {

    static SocketMethods of(Class<?> type) {
      return new SocketMethods(find(type, "localAddress"), find(type, "getIntOpt", int.class, int.class));
    }

    private static Method find(Class<?> type, String name, Class<?>... parameters) {
      try {
        return type.getMethod(name, parameters);
      } catch (NoSuchMethodException e) {
        return null;
      }
    }

    InetSocketAddress address(Object socket, Method method) {
      if (method == null) {
        return null;
      }
      try {
        return (InetSocketAddress) method.invoke(socket);
      } catch (IllegalAccessException | InvocationTargetException | ClassCastException e) {
        return null;
      }
    }
  }
}
