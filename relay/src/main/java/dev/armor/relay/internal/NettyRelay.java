package dev.armor.relay.internal;

import dev.armor.relay.ClientAnnouncer;
import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.LinkTls;
import dev.armor.relay.LivenessProbe;
import dev.armor.relay.AppProtocol;
import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.Relay;
import dev.armor.relay.RelayConfig;
import dev.armor.relay.RelayListener;
import dev.armor.relay.ServiceAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty {@link Relay}: entry point of the implementation; {@link ClientConnection} and
 * {@link ServerConnection} carry the bytes.
 *
 * <p>Design note. One TCP link per proxied connection (see {@link LinkFrames}): no multiplexing, so a slow reader
 * stalls only its own connection, and each link's TCP flow control is that connection's backpressure. Every
 * connection keeps its two sockets on one event loop, reads from one side only while the other side is writable
 * (write-buffer water marks), and holds at most {@link RelayConfig#holdBufferBytes()} while unattached: memory per
 * connection is bounded. App bytes are never copied: inbound buffers (pooled, direct) are written on, their frame
 * header in room reserved in front of them when they were read.
 *
 * <p>Threads. The daemon's calls come from any thread: route changes are published on {@link ClientService} and
 * handed to each affected connection's loop. Listener callbacks run on event-loop threads; the listener is wrapped
 * so that its exceptions are logged, not propagated into the relay. {@link #openServiceListener} blocks until its
 * socket is bound (on the acceptor loop, never the caller's).
 */
public final class NettyRelay implements Relay {

  private static final Logger log = LoggerFactory.getLogger(NettyRelay.class);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  /**
   * The largest read from a socket. Netty's default is 64 KiB; a bulk transfer then costs a read call, a pooled
   * buffer and a trip through the pipeline per 64 KiB, and loopback sockets hold megabytes: with 256 KiB the relay
   * threads' CPU per GB fell by about a tenth (measured, 1 connection). Reads are sized to what arrives (2 KiB at
   * first, down to 64 bytes for small messages), so only bulk transfers get the large buffers, while they last.
   */
  static final int MAX_READ_BYTES = 256 * 1024;

  /** A local service a link can be connected to. */
  record Exposure(InetSocketAddress appListener, LivenessProbe probe, ClientAnnouncer announcer) {}

  private final RelayConfig config;
  private final RelayListener listener;
  private final LongSupplier nanoClock;
  private final Transport transport;
  private final Bootstrap linkBootstrap;
  private final LinkTls links;
  private final dev.armor.security.RefusalLog linkRefusals;
  /**
   * Links in their TLS handshake, bounded per peer address and in all. Sized to real use: a daemon opens links ahead
   * of need (spares) and a handful at a time when its clients connect in a burst, each handshake a few milliseconds;
   * hundreds pending from one address is far beyond that.
   */
  private final dev.armor.security.PendingHandshakes pendingHandshakes =
      new dev.armor.security.PendingHandshakes(256, 1024);
  private final Bootstrap appBootstrap;
  private final ServerBootstrap serviceBootstrap;
  private final WriteBufferWaterMark waterMark;
  /** App sockets' read buffers: with room for a DATA header in front (see {@link LinkFrames#writeAppData}). */
  private final HeadroomRecvByteBufAllocator appReadBuffers = new HeadroomRecvByteBufAllocator(readSizing());
  private final Channel dataServer;
  private final InetSocketAddress dataAddress;
  private final LinkPool linkPool = new LinkPool(this);
  private final SharedLinks sharedLinks = new SharedLinks(this);
  private final LinkModes linkModes;

  private final ConcurrentHashMap<ServiceAddress, ClientService> clientServices = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<ServiceAddress, Exposure> exposures = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, InetSocketAddress> clientsByLocalPort = new ConcurrentHashMap<>();
  /** Direct path: the client's daemon's address of an app connection, to the client it carries. */
  private final ConcurrentHashMap<InetSocketAddress, InetSocketAddress> clientsByPeer = new ConcurrentHashMap<>();
  private final Set<RelayConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong connectionCounter = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Starts a relay with the system clock. */
  public static Relay start(RelayConfig config, RelayListener listener, LinkTls links) {
    return start(config, listener, System::nanoTime, links);
  }

  static NettyRelay start(RelayConfig config, RelayListener listener, LongSupplier nanoClock) {
    return start(config, listener, nanoClock, LinkTls.PLAINTEXT);
  }

  static NettyRelay start(RelayConfig config, RelayListener listener, LongSupplier nanoClock, LinkTls links) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(listener, "listener");
    quietLeakDetection();
    Transport transport = Transport.create(config.nodeName(), config.nativeTransport(), config.ioThreads());
    try {
      return new NettyRelay(config, listener, nanoClock, transport, links);
    } catch (RuntimeException e) {
      transport.shutdown();
      throw e;
    }
  }

  private NettyRelay(RelayConfig config, RelayListener listener, LongSupplier nanoClock, Transport transport,
      LinkTls links) {
    this.config = config;
    this.links = Objects.requireNonNull(links, "links");
    this.linkRefusals = new dev.armor.security.RefusalLog(LoggerFactory.getLogger(HandshakeRefusals.class),
        "relay " + config.nodeName() + "'s data port");
    this.listener = new SafeListener(listener);
    this.nanoClock = nanoClock;
    this.transport = transport;
    this.linkModes =
        new LinkModes(config.links(), config.nodeName(), java.util.concurrent.ForkJoinPool.commonPool());
    WriteBufferWaterMark waterMark =
        new WriteBufferWaterMark(config.writeBufferLowWaterMark(), config.writeBufferHighWaterMark());
    int connectTimeoutMillis = (int) config.connectTimeout().toMillis();

    this.linkBootstrap =
        new Bootstrap()
            .group(transport.workers())
            .channel(transport.channelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
            .option(ChannelOption.RCVBUF_ALLOCATOR, readSizing());
    this.appBootstrap =
        linkBootstrap
            .clone()
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.RCVBUF_ALLOCATOR, appReadBuffers)
            .option(ChannelOption.AUTO_READ, false); // reading starts once attached
    // Links between daemons only (not the loopback app sockets): noticed dead by the kernel if the peer vanishes.
    java.util.Map<ChannelOption<?>, Object> keepalive = transport.linkKeepaliveOptions(config.linkKeepalive());
    keepalive.forEach((option, value) -> setOption(linkBootstrap, option, value));
    this.waterMark = waterMark;
    this.serviceBootstrap = serviceBootstrap(transport.workers());

    InetSocketAddress bindTo = new InetSocketAddress(parseIp(config.dataHost()), config.dataPort());
    ServerBootstrap dataBootstrap = new ServerBootstrap();
    keepalive.forEach((option, value) -> setChildOption(dataBootstrap, option, value));
    ChannelFuture bound =
        dataBootstrap
            .group(transport.acceptors(), transport.workers())
            .channel(transport.serverChannelClass())
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
            .childOption(ChannelOption.RCVBUF_ALLOCATOR, readSizing())
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (links.enabled()) {
                      // Nothing of a link is read before the peer has shown a node certificate of the cluster.
                      java.net.SocketAddress peer = ch.remoteAddress();
                      String refused = pendingHandshakes.admit(peer);
                      if (refused != null) {
                        linkRefusals.refused(peer, refused);
                        ch.close();
                        return;
                      }
                      ch.pipeline().addLast(links.serverHandler(ch.alloc()),
                          new HandshakeRefusals(linkRefusals, pendingHandshakes, peer));
                    }
                    ch.pipeline()
                        .addLast(
                            new LinkProtocolSniffer(NettyRelay.this),
                            new LinkFrameDecoder(),
                            new ServerLinkHandler(NettyRelay.this));
                  }
                })
            .bind(bindTo)
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw new IllegalStateException(
          "relay " + config.nodeName() + " cannot bind its data address " + RelayListener.describe(bindTo) + ": "
              + ClientConnection.message(bound.cause()),
          bound.cause());
    }
    this.dataServer = bound.channel();
    this.dataAddress = (InetSocketAddress) dataServer.localAddress();
    String whyNot = Transport.whyNotNative(config.nativeTransport());
    log.info(
        "relay {} started: data address {}, transport {}{}, hold buffer {} bytes, hold timeout {} ms, replay log {}"
            + " bytes (overflow: {}), link keepalive {}, links {}, {}",
        config.nodeName(),
        RelayListener.describe(dataAddress),
        transport.name(),
        whyNot == null ? "" : " (" + whyNot + ")",
        config.holdBufferBytes(),
        config.holdTimeout().toMillis(),
        config.replayLogBytes(),
        config.replayOverflow().name().toLowerCase(java.util.Locale.ROOT),
        config.linkKeepalive().isZero() ? "off" : config.linkKeepalive().toSeconds() + " s",
        linkModes.describe(),
        links.describe());
  }

  /**
   * Netty tracks one buffer in 128 for leaks unless told otherwise, each with a stack trace: with a buffer or two per
   * relayed message that was about 2 % of a relay thread's time (JFR and perf, 1,000 audio streams). Off unless the
   * JVM asks for a level ({@code -Dio.netty.leakDetection.level=paranoid}: the relay's own tests do).
   */
  private static void quietLeakDetection() {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
    }
  }

  /** Netty's adaptive read sizing (64 bytes to {@link #MAX_READ_BYTES}, 2 KiB to start), 16 reads per wake-up. */
  private static io.netty.channel.AdaptiveRecvByteBufAllocator readSizing() {
    io.netty.channel.AdaptiveRecvByteBufAllocator sizing =
        new io.netty.channel.AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ_BYTES);
    sizing.maxMessagesPerRead(HeadroomRecvByteBufAllocator.MAX_MESSAGES_PER_READ);
    return sizing;
  }

  @SuppressWarnings("unchecked")
  private static <T> void setOption(Bootstrap bootstrap, ChannelOption<T> option, Object value) {
    bootstrap.option(option, (T) value);
  }

  @SuppressWarnings("unchecked")
  private static <T> void setChildOption(ServerBootstrap bootstrap, ChannelOption<T> option, Object value) {
    bootstrap.childOption(option, (T) value);
  }

  /** Listeners of client apps: their connections run on {@code children}. */
  private ServerBootstrap serviceBootstrap(io.netty.channel.EventLoopGroup children) {
    return new ServerBootstrap()
        .group(transport.acceptors(), children)
        .channel(transport.serverChannelClass())
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, appReadBuffers)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  // ---------------------------------------------------------------- Relay

  @Override
  public InetSocketAddress dataAddress() {
    return dataAddress;
  }

  @Override
  public int openServiceListener(ServiceAddress service) {
    ensureOpen();
    ClientService clientService = clientService(service);
    synchronized (clientService) {
      Channel existing = clientService.listener();
      if (existing != null) {
        return ((InetSocketAddress) existing.localAddress()).getPort();
      }
      Channel bound = bindServiceListener(clientService, null, serviceBootstrap.clone());
      clientService.listener(bound);
      int port = ((InetSocketAddress) bound.localAddress()).getPort();
      log.info("service {}: local apps' connections accepted on {}:{}", service, LOOPBACK.getHostAddress(), port);
      return port;
    }
  }

  /**
   * One listener per (service, client ARMOR): its connections all run on one event loop (picked when it is opened),
   * so that a restarted client's connection can take over an orphaned one without locks. The price: one client
   * ARMOR's connections to one service share one relay thread.
   */
  @Override
  public int openServiceListener(ServiceAddress service, String clientArmor, LivenessProbe clientAlive) {
    Objects.requireNonNull(clientArmor, "clientArmor");
    Objects.requireNonNull(clientAlive, "clientAlive");
    if (clientArmor.isBlank()) {
      throw new IllegalArgumentException("client ARMOR id must not be blank");
    }
    ensureOpen();
    ClientService clientService = clientService(service);
    synchronized (clientService) {
      ClientService.ClientArmor armor = clientService.armors.get(clientArmor);
      if (armor != null) {
        armor.probe = clientAlive; // a restarted instance: its process is the one to ask from now on
        return ((InetSocketAddress) armor.listener.localAddress()).getPort();
      }
      EventLoop loop = transport.workers().next();
      armor = new ClientService.ClientArmor(clientArmor, loop, clientAlive);
      armor.listener = bindServiceListener(clientService, armor, serviceBootstrap(loop));
      clientService.armors.put(clientArmor, armor);
      int port = ((InetSocketAddress) armor.listener.localAddress()).getPort();
      log.info(
          "service {}: connections of protected client ARMOR {} accepted on {}:{} (held for its restart if it dies)",
          service,
          clientArmor,
          LOOPBACK.getHostAddress(),
          port);
      return port;
    }
  }

  @Override
  public void clientArmorEnded(String clientArmor, String why) {
    if (closed.get()) {
      return;
    }
    for (ClientService clientService : clientServices.values()) {
      ClientService.ClientArmor armor;
      synchronized (clientService) {
        armor = clientService.armors.remove(clientArmor);
      }
      if (armor == null) {
        continue;
      }
      armor.listener.close();
      log.info("service {}: listener for protected client ARMOR {} closed: {}", clientService.service, clientArmor, why);
      armor.loop.execute(() -> armor.ended(why));
    }
  }

  @Override
  public boolean listenAtServiceAddress(ServiceAddress service, InetSocketAddress bindTo) {
    Objects.requireNonNull(bindTo, "bindTo");
    ensureOpen();
    ClientService clientService = clientService(service);
    synchronized (clientService) {
      if (clientService.serviceAddressListener() != null) {
        return false;
      }
      ChannelFuture bound = bindServiceListener(clientService, null, serviceBootstrap.clone(), bindTo);
      if (!bound.isSuccess()) {
        Throwable cause = bound.cause();
        java.net.BindException inUse = new java.net.BindException("Address already in use: "
            + RelayListener.describe(bindTo) + " is held by another socket (" + ClientConnection.message(cause)
            + "); Armor listens there for the service's clients");
        inUse.initCause(cause);
        throw new java.io.UncheckedIOException(inUse);
      }
      clientService.serviceAddressListener(bound.channel());
      log.info("service {}: clients Armor does not wrap are accepted at {}", service, RelayListener.describe(bindTo));
      return true;
    }
  }

  @Override
  public void stopListeningAtServiceAddress(ServiceAddress service) {
    ClientService clientService = clientServices.get(service);
    if (clientService == null) {
      return;
    }
    Channel listener;
    synchronized (clientService) {
      listener = clientService.serviceAddressListener();
      clientService.serviceAddressListener(null);
    }
    if (listener != null) {
      // awaited: the app may bind the address again at once, and the relay with it
      listener.close().awaitUninterruptibly();
      log.info("service {}: no longer accepted at {}", service,
          RelayListener.describe((InetSocketAddress) listener.localAddress()));
    }
  }

  private Channel bindServiceListener(
      ClientService clientService, ClientService.ClientArmor armor, ServerBootstrap bootstrap) {
    ChannelFuture bound = bindServiceListener(clientService, armor, bootstrap, new InetSocketAddress(LOOPBACK, 0));
    if (!bound.isSuccess()) {
      throw new IllegalStateException(
          "cannot open a listener for service " + clientService.service + ": " + ClientConnection.message(bound.cause()),
          bound.cause());
    }
    return bound.channel();
  }

  private ChannelFuture bindServiceListener(ClientService clientService, ClientService.ClientArmor armor,
      ServerBootstrap bootstrap, InetSocketAddress bindTo) {
    return bootstrap
        .childHandler(
            new ChannelInitializer<>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ClientConnection(NettyRelay.this, clientService, armor, ch).appHandler());
              }
            })
        .bind(bindTo)
        .awaitUninterruptibly();
  }

  /** As {@link #serviceLocated(ServiceAddress, InetSocketAddress, RecoveryPolicy)} keeping the service's policy. */
  @Override
  public void serviceLocated(ServiceAddress service, InetSocketAddress serverDaemon) {
    locate(service, serverDaemon, null, null);
  }

  /**
   * The policy applies from now on: new connections, and held ones when they re-attach. A connection can only be
   * replayed if it was logged since its last fresh attach, so one that attached under RECONNECT re-attaches fresh
   * once more (and is logged from then on).
   */
  @Override
  public void serviceLocated(ServiceAddress service, InetSocketAddress serverDaemon, RecoveryPolicy policy) {
    locate(service, serverDaemon, Objects.requireNonNull(policy, "policy"), null);
  }

  @Override
  public void serviceLocated(
      ServiceAddress service, InetSocketAddress serverDaemon, RecoveryPolicy policy, AppProtocol protocol) {
    locate(service, serverDaemon, Objects.requireNonNull(policy, "policy"), Objects.requireNonNull(protocol, "protocol"));
  }

  private void locate(
      ServiceAddress service, InetSocketAddress serverDaemon, RecoveryPolicy policy, AppProtocol protocol) {
    Objects.requireNonNull(serverDaemon, "serverDaemon");
    ensureOpen();
    ClientService clientService = clientService(service);
    ClientService.Route route = clientService.located(serverDaemon, policy, protocol);
    log.info(
        "service {} located at daemon {} ({} connections, recovery {}, protocol {})",
        service,
        RelayListener.describe(serverDaemon),
        clientService.connections.size(),
        route.policy().name().toLowerCase(java.util.Locale.ROOT),
        route.protocol().optionName());
    notifyRouteChanged(clientService);
  }

  @Override
  public void serviceRecovering(ServiceAddress service) {
    ensureOpen();
    ClientService clientService = clientService(service);
    clientService.recovering();
    log.info("service {} recovering: its connections hold until it is located again", service);
    notifyRouteChanged(clientService);
  }

  @Override
  public void serviceFailed(ServiceAddress service, String reason) {
    ensureOpen();
    ClientService clientService = clientService(service);
    clientService.failed(reason == null ? "no reason given" : reason);
    log.warn("service {} failed ({}): its held and new connections are reset", service, reason);
    notifyRouteChanged(clientService);
    if (!exposures.containsKey(service)) {
      stopListeningAtServiceAddress(service);
    }
  }

  private void notifyRouteChanged(ClientService clientService) {
    for (ClientConnection connection : clientService.connections) {
      connection.execute(connection::onRouteChanged);
    }
  }

  @Override
  public void exposeLocalService(ServiceAddress service, InetSocketAddress appListener, LivenessProbe probe) {
    exposeLocalService(service, appListener, probe, ClientAnnouncer.NONE);
  }

  @Override
  public void exposeLocalService(
      ServiceAddress service, InetSocketAddress appListener, LivenessProbe probe, ClientAnnouncer announcer) {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(appListener, "appListener");
    Objects.requireNonNull(probe, "probe");
    Objects.requireNonNull(announcer, "announcer");
    ensureOpen();
    exposures.put(service, new Exposure(appListener, probe, announcer));
    log.info("service {} exposed: links connected to app at {}", service, RelayListener.describe(appListener));
  }

  @Override
  public void withdrawLocalService(ServiceAddress service) {
    if (exposures.remove(service) != null) {
      log.info("service {} withdrawn: new links for it are refused", service);
    }
  }

  @Override
  public Optional<InetSocketAddress> clientOfLocalPort(int localPort) {
    InetSocketAddress relayed = clientsByLocalPort.get(localPort);
    if (relayed != null) {
      return Optional.of(relayed);
    }
    // a shim asks by port alone: a direct connection's (from another daemon's socket) is found by its port too
    for (Map.Entry<InetSocketAddress, InetSocketAddress> direct : clientsByPeer.entrySet()) {
      if (direct.getKey().getPort() == localPort) {
        return Optional.of(direct.getValue());
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<InetSocketAddress> clientOfPeer(InetSocketAddress peer) {
    InetSocketAddress direct = clientsByPeer.get(peer);
    if (direct != null || !peer.getAddress().isLoopbackAddress()) {
      return Optional.ofNullable(direct);
    }
    return clientOfLocalPort(peer.getPort());
  }

  @Override
  public List<ConnectionInfo> connections() {
    List<ConnectionInfo> snapshot = new ArrayList<>(connections.size());
    for (RelayConnection connection : connections) {
      snapshot.add(connection.info());
    }
    return snapshot;
  }

  /**
   * Closes the listeners, resets every connection (client and server apps see a reset, not an end of stream) and
   * stops the event loops. Blocks up to a few seconds: do not call it from a {@link RelayListener} callback.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    log.info("relay {} closing: {} connections reset", config.nodeName(), connections.size());
    dataServer.close().awaitUninterruptibly();
    for (ClientService clientService : clientServices.values()) {
      for (Channel channel : new Channel[] {clientService.listener(), clientService.serviceAddressListener()}) {
        if (channel != null) {
          channel.close().awaitUninterruptibly();
        }
      }
      synchronized (clientService) {
        for (ClientService.ClientArmor armor : clientService.armors.values()) {
          armor.listener.close().awaitUninterruptibly();
        }
      }
    }
    for (RelayConnection connection : connections) {
      connection.execute(connection::shutdown);
    }
    transport.shutdown();
  }

  // ---------------------------------------------------------------- for the connections

  RelayConfig config() {
    return config;
  }

  RelayListener listener() {
    return listener;
  }

  long nanoTime() {
    return nanoClock.getAsLong();
  }

  String nextConnectionId() {
    return config.nodeName() + "-" + connectionCounter.incrementAndGet();
  }

  /**
   * {@code inner} behind this relay's link security: the handler of a link bootstrap, so that every link this relay
   * opens (a connection's own, a spare, a shared one) starts with the TLS handshake when links are secured.
   */
  ChannelHandler secured(ChannelHandler inner) {
    if (!links.enabled()) {
      return inner;
    }
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(links.clientHandler(ch.alloc()), inner);
      }
    };
  }

  Bootstrap linkBootstrap(EventLoop loop) {
    return linkBootstrap.clone(loop);
  }

  LinkPool linkPool() {
    return linkPool;
  }

  SharedLinks sharedLinks() {
    return sharedLinks;
  }

  /** Refusals of peers on the data port, logged at most once a second. */
  dev.armor.security.RefusalLog linkRefusals() {
    return linkRefusals;
  }

  /** Whether the link of an attempt starting now is a stream of a shared connection (see {@link LinkModes}). */
  boolean multiplexLinks() {
    return linkModes.multiplexed();
  }

  Bootstrap appBootstrap(EventLoop loop) {
    return appBootstrap.clone(loop);
  }

  Exposure exposure(ServiceAddress service) {
    return exposures.get(service);
  }

  void register(RelayConnection connection) {
    connections.add(connection);
  }

  void unregister(RelayConnection connection) {
    connections.remove(connection);
  }

  void mapLocalPort(int localPort, InetSocketAddress client) {
    clientsByLocalPort.put(localPort, client);
  }

  void unmapLocalPort(int localPort, InetSocketAddress client) {
    clientsByLocalPort.remove(localPort, client);
  }

  void mapPeer(InetSocketAddress peer, InetSocketAddress client) {
    clientsByPeer.put(peer, client);
  }

  void unmapPeer(InetSocketAddress peer, InetSocketAddress client) {
    clientsByPeer.remove(peer, client);
  }

  /** Whether a connection starting an attempt now asks for the direct path (see {@link RelayConfig.DataPath}). */
  boolean directData() {
    return config.dataPath() == RelayConfig.DataPath.DIRECT;
  }

  /** The client-side connection with this id, if it is open (tests). */
  Optional<ClientConnection> clientConnection(String id) {
    for (RelayConnection connection : connections) {
      if (connection instanceof ClientConnection c && c.id.equals(id)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  private ClientService clientService(ServiceAddress service) {
    Objects.requireNonNull(service, "service");
    return clientServices.computeIfAbsent(service, ClientService::new);
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("relay " + config.nodeName() + " is closed");
    }
  }

  private static InetAddress parseIp(String literal) {
    try {
      return InetAddress.getByName(literal); // validated as a literal by RelayConfig: no lookup
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("data-host must be a literal IP address, but was '" + literal + "'", e);
    }
  }

  /** Keeps a faulty listener from breaking the relay's event loops. */
  private static final class SafeListener implements RelayListener {
    private final RelayListener delegate;

    SafeListener(RelayListener delegate) {
      this.delegate = delegate;
    }

    @Override
    public void locationNeeded(ServiceAddress service) {
      try {
        delegate.locationNeeded(service);
      } catch (RuntimeException e) {
        log.warn("relay listener failed on locationNeeded({})", service, e);
      }
    }

    @Override
    public void connectionAttached(ConnectionInfo connection) {
      try {
        delegate.connectionAttached(connection);
      } catch (RuntimeException e) {
        log.warn("relay listener failed on connectionAttached({})", connection.id(), e);
      }
    }

    @Override
    public void connectionHeld(ConnectionInfo connection, String reason) {
      try {
        delegate.connectionHeld(connection, reason);
      } catch (RuntimeException e) {
        log.warn("relay listener failed on connectionHeld({})", connection.id(), e);
      }
    }

    @Override
    public void connectionClosed(ConnectionInfo connection, String reason) {
      try {
        delegate.connectionClosed(connection, reason);
      } catch (RuntimeException e) {
        log.warn("relay listener failed on connectionClosed({})", connection.id(), e);
      }
    }
  }
}
