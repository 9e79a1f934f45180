package dev.armor.shim.internal;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketImpl;
import java.util.Map;
import java.util.Set;

/**
 * The few JDK internals the shim touches, looked up once at premain so that a JDK that moved them fails the
 * install (logged) rather than an app's connect.
 *
 * <p>Access comes from {@link Instrumentation#redefineModule}: {@code java.base} opens {@code sun.nio.ch} and
 * {@code java.net} to the shim's own class loader's unnamed module only, not to the app, and needs no
 * command-line flag. Through that the shim defines the hook class inside {@code sun.nio.ch} (visible to the
 * advice inlined there), reads or sets the fields of socket implementations, and ({@code jdk.internal.access})
 * registers a shutdown hook that runs after the app's.
 */
final class JdkInternals {
  private static final int LAST_SHUTDOWN_SLOT = 9; // java.lang.Shutdown.MAX_SYSTEM_HOOKS - 1, on JDK 17 and 25
  private final Class<?> net;
  private final MethodHandle listen;
  private final MethodHandle localAddress;
  private final MethodHandle remoteAddress;
  private final MethodHandle remotePort;
  private final MethodHandle closeSocketImpl;
  private final VarHandle address;
  private final VarHandle port;
  private final VarHandle localport;
  private final Class<?> socketChannelImpl;
  private final VarHandle socketChannelLocalAddress;
  private final Class<?> asyncSocketChannelImpl;
  private final VarHandle asyncSocketChannelLocalAddress;

  private JdkInternals(Class<?> net, Class<?> nioSocketImpl) throws ReflectiveOperationException {
    this.net = net;
    MethodHandles.Lookup inNet = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
    this.listen = inNet.findStatic(net, "listen", MethodType.methodType(void.class, FileDescriptor.class, int.class));
    this.localAddress = inNet.findStatic(net, "localAddress", MethodType.methodType(InetSocketAddress.class, FileDescriptor.class));
    this.remoteAddress = inNet.findStatic(net, "remoteAddress", MethodType.methodType(InetSocketAddress.class, FileDescriptor.class));
    this.remotePort = inNet.findStatic(net, "remotePort", MethodType.methodType(int.class, FileDescriptor.class));
    MethodHandles.Lookup inImpl = MethodHandles.privateLookupIn(nioSocketImpl, MethodHandles.lookup());
    this.closeSocketImpl = inImpl.findVirtual(nioSocketImpl, "close", MethodType.methodType(void.class))
        .asType(MethodType.methodType(void.class, Object.class));
    MethodHandles.Lookup inSocketImpl = MethodHandles.privateLookupIn(SocketImpl.class, MethodHandles.lookup());
    this.address = inSocketImpl.findVarHandle(SocketImpl.class, "address", InetAddress.class);
    this.port = inSocketImpl.findVarHandle(SocketImpl.class, "port", int.class);
    this.localport = inSocketImpl.findVarHandle(SocketImpl.class, "localport", int.class);
    // the field's declared type differs between JDKs (InetSocketAddress, SocketAddress): found by name
    this.socketChannelImpl = bootClass("sun.nio.ch.SocketChannelImpl");
    this.socketChannelLocalAddress = fieldHandle(socketChannelImpl, "localAddress");
    this.asyncSocketChannelImpl = bootClass("sun.nio.ch.AsynchronousSocketChannelImpl");
    this.asyncSocketChannelLocalAddress = fieldHandle(asyncSocketChannelImpl, "localAddress");
  }

  private static VarHandle fieldHandle(Class<?> owner, String name) throws ReflectiveOperationException {
    return MethodHandles.privateLookupIn(owner, MethodHandles.lookup())
        .unreflectVarHandle(owner.getDeclaredField(name));
  }

  /** Opens the packages to this class's module and looks everything up. */
  static JdkInternals open(Instrumentation instrumentation) throws ReflectiveOperationException {
    Module base = Object.class.getModule();
    Module shim = JdkInternals.class.getModule();
    instrumentation.redefineModule(base, Set.of(), Map.of(),
        Map.of("sun.nio.ch", Set.of(shim), "java.net", Set.of(shim), "jdk.internal.access", Set.of(shim)), Set.of(),
        Map.of());
    return new JdkInternals(bootClass("sun.nio.ch.Net"), bootClass("sun.nio.ch.NioSocketImpl"));
  }

  /** A class of {@code java.base}, loaded (not initialized) so that it is transformed at install. */
  static Class<?> bootClass(String name) throws ClassNotFoundException {
    return Class.forName(name, false, null);
  }

  /** Defines {@code bytes} as a class of {@code sun.nio.ch}, in the boot loader. */
  Class<?> defineInSunNioCh(byte[] bytes) throws IllegalAccessException {
    return MethodHandles.privateLookupIn(net, MethodHandles.lookup()).defineClass(bytes);
  }

  /**
   * Runs {@code hook} when the JVM shuts down, after every application shutdown hook has finished: in the last of
   * the JDK's system shutdown slots (0 to 2 are the console's, the application hooks' and delete-on-exit's).
   */
  static void runAfterApplicationShutdownHooks(Runnable hook) throws ReflectiveOperationException {
    Object javaLangAccess = Class.forName("jdk.internal.access.SharedSecrets").getMethod("getJavaLangAccess")
        .invoke(null);
    Class.forName("jdk.internal.access.JavaLangAccess")
        .getMethod("registerShutdownHook", int.class, boolean.class, Runnable.class)
        .invoke(javaLangAccess, LAST_SHUTDOWN_SLOT, false, hook);
  }

  void listen(FileDescriptor fd, int backlog) throws IOException {
    invoke(() -> {
      listen.invokeExact(fd, backlog);
    });
  }

  InetSocketAddress localAddress(FileDescriptor fd) throws IOException {
    InetSocketAddress[] result = new InetSocketAddress[1];
    invoke(() -> result[0] = (InetSocketAddress) localAddress.invokeExact(fd));
    return result[0];
  }

  InetSocketAddress remoteAddress(FileDescriptor fd) throws IOException {
    InetSocketAddress[] result = new InetSocketAddress[1];
    invoke(() -> result[0] = (InetSocketAddress) remoteAddress.invokeExact(fd));
    return result[0];
  }

  /** The peer's port of the connected socket {@code fd}: one system call, where its address would take two. */
  int remotePort(FileDescriptor fd) throws IOException {
    int[] result = new int[1];
    invoke(() -> result[0] = (int) remotePort.invokeExact(fd));
    return result[0];
  }

  void closeSocketImpl(Object impl) throws IOException {
    invoke(() -> {
      closeSocketImpl.invokeExact(impl);
    });
  }

  InetAddress address(Object socketImpl) {
    return (InetAddress) address.get((SocketImpl) socketImpl);
  }

  int port(Object socketImpl) {
    return (int) port.get((SocketImpl) socketImpl);
  }

  int localPort(Object socketImpl) {
    return (int) localport.get((SocketImpl) socketImpl);
  }

  /**
   * Makes an accepted channel (a {@code SocketChannel} or an {@code AsynchronousSocketChannel}) report {@code local}
   * as its local address; called before the app has the channel. Another kind of object is left as it is.
   */
  /** The local address an accepted channel reports (another kind of object: null). */
  InetSocketAddress localAddressOf(Object acceptedChannel) {
    if (socketChannelImpl.isInstance(acceptedChannel)) {
      return (InetSocketAddress) socketChannelLocalAddress.get(acceptedChannel);
    }
    if (asyncSocketChannelImpl.isInstance(acceptedChannel)) {
      return (InetSocketAddress) asyncSocketChannelLocalAddress.get(acceptedChannel);
    }
    return null;
  }

  void setLocalAddress(Object acceptedChannel, InetSocketAddress local) {
    if (socketChannelImpl.isInstance(acceptedChannel)) {
      socketChannelLocalAddress.set(acceptedChannel, local);
    } else if (asyncSocketChannelImpl.isInstance(acceptedChannel)) {
      asyncSocketChannelLocalAddress.set(acceptedChannel, local);
    }
  }

  /** Makes an accepted socket report {@code remote} as its peer and {@code localPort} as its own port. */
  void setPeer(Object socketImpl, InetSocketAddress remote, int localPort) {
    // Called before accept returns: no other thread sees this impl yet.
    address.set((SocketImpl) socketImpl, remote.getAddress());
    port.set((SocketImpl) socketImpl, remote.getPort());
    localport.set((SocketImpl) socketImpl, localPort);
  }

  private interface Call {
    void run() throws Throwable;
  }

  private static void invoke(Call call) throws IOException {
    try {
      call.run();
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(t);
    }
  }
}
