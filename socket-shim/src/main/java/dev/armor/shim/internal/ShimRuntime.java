package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimWire;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The shim's entry inside its own class loader, called once by {@code dev.armor.shim.Agent}. Order matters:
 *
 * <ol>
 *   <li>Byte Buddy's Nexus off while the shim uses Byte Buddy (on JDK 25 it would print an {@code Unsafe} warning;
 *       the shim needs no Nexus);
 *   <li>the hook class in {@code sun.nio.ch}, its handles pointing at the interceptors (first, as it depends on
 *       JDK internals: if they moved, the daemon never hears of an app it cannot reroute);
 *   <li>the session with the daemon, so the daemon knows the process before {@code main} runs (a missing daemon
 *       is reported once, then every connect and bind fails with a message naming it), and its thread's end at
 *       exit, after the app's shutdown hooks;
 *   <li>the transformations, last: from then on every connect, bind and accept passes through the shim (replayed
 *       from the {@link TransformCache} when it has them, which skips Byte Buddy altogether); and Netty's native
 *       socket classes, instrumented when the app loads them ({@link NettyTransformer}).
 * </ol>
 */
public final class ShimRuntime {
  private static final String NEXUS_DISABLED = "net.bytebuddy.nexus.disabled";

  /** How long the exit waits for the session thread to leave its wait: it needs microseconds. */
  private static final long EXIT_WAIT_MILLIS = 100;

  private ShimRuntime() {}

  /**
   * Starts the shim; called reflectively by the agent.
   *
   * @throws Exception the shim could not be installed; the agent reports it and the app runs without the shim
   */
  public static void start(Instrumentation instrumentation, String agentArgs) throws Exception {
    Optional<ShimConfig> parsed = ShimConfig.parse(agentArgs, System.getenv());
    if (parsed.isEmpty()) {
      return;
    }
    ShimConfig config = parsed.get();
    if (HookClass.isDefined()) {
      Log.get().log(Level.WARNING, "another Armor socket shim is already installed in this JVM; this agent stays out");
      return;
    }
    RouteCache routes = new RouteCache(System::nanoTime);
    DaemonClient daemon = new DaemonClient(config, ProcessHandle.current().pid(), routes::clear);
    JdkInternals jdk = JdkInternals.open(instrumentation);
    Class<?> hooks = HookClass.define(jdk);
    bindHooks(hooks, config, daemon, routes, jdk);
    warmUp();
    openSession(config, daemon);
    endSessionThreadAtExit(daemon);
    List<String> problems = instrument(instrumentation, hooks, config);
    instrumentation.addTransformer(new NettyTransformer(instrumentation, hooks), false);
    if (!problems.isEmpty()) {
      Log.get().log(Level.ERROR, "the Armor socket shim could not instrument the JDK, sockets are not rerouted: "
          + String.join("; ", problems));
    }
  }

  /**
   * The cached instrumentation when the cache holds this JDK's and this agent build's transformations (no Byte
   * Buddy class is loaded then), else Byte Buddy's, which refreshes the cache. See {@link CachedTransformations}
   * for what it saves.
   */
  private static List<String> instrument(Instrumentation instrumentation, Class<?> hooks, ShimConfig config)
      throws Exception {
    Optional<TransformCache> cache =
        TransformCache.open(config, ShimRuntime.class.getProtectionDomain().getCodeSource().getLocation());
    if (cache.isPresent() && CachedTransformations.tryInstall(instrumentation, cache.get())) {
      return List.of();
    }
    return withoutNexus(() -> Transformations.install(instrumentation, hooks, cache));
  }

  private static void openSession(ShimConfig config, DaemonClient daemon) {
    try {
      daemon.ensureSession();
    } catch (IOException e) {
      Log.get().log(Level.WARNING, Failures.notReachable(config, e) + "; connects and binds fail until it is");
    }
    daemon.startSessionThread();
  }

  /** See {@link DaemonClient#endForExit}: without it, every protected JVM's exit took 0.3 s longer. */
  private static void endSessionThreadAtExit(DaemonClient daemon) {
    try {
      JdkInternals.runAfterApplicationShutdownHooks(() -> daemon.endForExit(EXIT_WAIT_MILLIS));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      Log.get().log(Level.DEBUG, () -> "no shutdown hook for the session thread (exit may take 0.3 s longer): " + e);
    }
  }

  private static void bindHooks(Class<?> hooks, ShimConfig config, DaemonClient daemon, RouteCache routes,
      JdkInternals jdk) throws ReflectiveOperationException {
    ListenerRegistry listeners = new ListenerRegistry();
    ConnectInterceptor connect = new ConnectInterceptor(config, daemon, routes, jdk);
    BindInterceptor bind = new BindInterceptor(config, daemon, listeners, jdk);
    AcceptInterceptor accept = new AcceptInterceptor(daemon, listeners, jdk, config.host());
    HookClass.set(hooks, HookPoint.CONNECT, handle(connect, "onConnect", HookPoint.CONNECT));
    HookClass.set(hooks, HookPoint.CONNECTED, handle(connect, "onConnected", HookPoint.CONNECTED));
    HookClass.set(hooks, HookPoint.SOCKET_BIND, handle(bind, "onSocketBind", HookPoint.SOCKET_BIND));
    HookClass.set(hooks, HookPoint.SOCKET_BOUND, handle(bind, "onSocketBound", HookPoint.SOCKET_BOUND));
    HookClass.set(hooks, HookPoint.CHANNEL_BIND, handle(bind, "onChannelBind", HookPoint.CHANNEL_BIND));
    HookClass.set(hooks, HookPoint.CHANNEL_BOUND, handle(bind, "onChannelBound", HookPoint.CHANNEL_BOUND));
    HookClass.set(hooks, HookPoint.LISTENER_CLOSED, handle(bind, "onListenerClosed", HookPoint.LISTENER_CLOSED));
    HookClass.set(hooks, HookPoint.SOCKET_ACCEPTED, handle(accept, "onSocketAccepted", HookPoint.SOCKET_ACCEPTED));
    HookClass.set(hooks, HookPoint.CHANNEL_ACCEPTED, handle(accept, "onChannelAccepted", HookPoint.CHANNEL_ACCEPTED));
    HookClass.set(hooks, HookPoint.SOCKET_LOCAL_ADDRESS,
        handle(accept, "onSocketLocalAddress", HookPoint.SOCKET_LOCAL_ADDRESS));
    HookClass.set(hooks, HookPoint.CHANNEL_ACCEPTED_LOCAL,
        handle(accept, "onChannelAcceptedLocal", HookPoint.CHANNEL_ACCEPTED_LOCAL));
    NettyInterceptor netty = new NettyInterceptor(connect, bind, accept, listeners);
    HookClass.set(hooks, HookPoint.NETTY_CONNECT, handle(netty, "onConnect", HookPoint.NETTY_CONNECT));
    HookClass.set(hooks, HookPoint.NETTY_CONNECTED, handle(netty, "onConnected", HookPoint.NETTY_CONNECTED));
    HookClass.set(hooks, HookPoint.NETTY_BIND, handle(netty, "onBind", HookPoint.NETTY_BIND));
    HookClass.set(hooks, HookPoint.NETTY_BOUND, handle(netty, "onBound", HookPoint.NETTY_BOUND));
    HookClass.set(hooks, HookPoint.NETTY_LISTENING, handle(netty, "onListening", HookPoint.NETTY_LISTENING));
    HookClass.set(hooks, HookPoint.NETTY_LOCAL_ADDRESS,
        handle(netty, "onLocalAddress", HookPoint.NETTY_LOCAL_ADDRESS));
    HookClass.set(hooks, HookPoint.NETTY_REMOTE_ADDRESS,
        handle(netty, "onRemoteAddress", HookPoint.NETTY_REMOTE_ADDRESS));
    HookClass.set(hooks, HookPoint.NETTY_ACCEPTED, handle(netty, "onAccepted", HookPoint.NETTY_ACCEPTED));
    HookClass.set(hooks, HookPoint.NETTY_CLOSED, handle(netty, "onClosed", HookPoint.NETTY_CLOSED));
  }

  private static MethodHandle handle(Object interceptor, String method, HookPoint point)
      throws ReflectiveOperationException {
    return MethodHandles.lookup().findVirtual(interceptor.getClass(), method, point.type()).bindTo(interceptor);
  }

  /** Loads what the first connect needs now rather than inside it. */
  private static void warmUp() throws IOException {
    byte[] frame = ShimWire.encode(new RouteQuery(Loopback.ANY_PORT)).array();
    ShimWire.decode(Arrays.copyOfRange(frame, Integer.BYTES, frame.length));
    Callers.isDatagramConnect();
  }

  interface Install<T> {
    T run() throws Exception;
  }

  /**
   * Runs {@code install} with Byte Buddy's Nexus disabled, then restores the property: it is read by any Byte
   * Buddy, and the app's own copy should keep behaving as the app configured it.
   */
  static <T> T withoutNexus(Install<T> install) throws Exception {
    String previous = System.getProperty(NEXUS_DISABLED);
    System.setProperty(NEXUS_DISABLED, "true");
    try {
      return install.run();
    } finally {
      if (previous == null) {
        System.clearProperty(NEXUS_DISABLED);
      } else {
        System.setProperty(NEXUS_DISABLED, previous);
      }
    }
  }
}
