package dev.armor.daemon;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRequestException;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.ClusterInfo;
import dev.armor.elements.control.GetClusterRequest;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.DaemonRegistered;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.ftm.Ftm;
import dev.armor.ftm.FtmChannelServer;
import dev.armor.ftm.NodeStartFailed;
import dev.armor.ftm.lease.NodeDeclaredLost;
import dev.armor.ftm.lease.NodeLease;
import dev.armor.ftm.lease.NodeLeases;
import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.LinkTls;
import dev.armor.relay.Relay;
import dev.armor.relay.RelayListener;
import dev.armor.relay.Relays;
import dev.armor.relay.ServiceAddress;
import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import dev.armor.security.Role;
import dev.armor.security.TableSeal;
import dev.armor.security.TlsHandshake;
import dev.armor.shim.control.ShimControlServer;
import io.grpc.ManagedChannel;
import io.grpc.Grpc;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon process: joins the cluster found through the FTM's control address, starts the relay (data plane),
 * the gateway ARMOR {@code daemon@NODE} with its elements, and the shim endpoint, then registers with the FTM.
 */
public final class DaemonNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DaemonNode.class);
  private static final Duration REGISTRATION_DEADLINE = Duration.ofSeconds(60);
  /** How long a starting daemon keeps asking for the cluster's seed nodes before it gives up. */
  static final Duration FIND_CLUSTER_DEADLINE = Duration.ofSeconds(30);

  private final DaemonSettings settings;
  private final ActorSystem<Void> system;
  private final Relay relay;
  private final ShimControlServer shimServer;
  private final UserShimSockets userSockets;
  private final LocalArmors armors;
  private final FtmChannel ftmChannel;
  private final FtmChannelServer ftmChannelServer;
  private volatile io.grpc.Server controlApi;

  private DaemonNode(DaemonSettings settings, ActorSystem<Void> system, Relay relay, ShimControlServer shimServer,
      UserShimSockets userSockets, LocalArmors armors, FtmChannel ftmChannel, FtmChannelServer ftmChannelServer) {
    this.userSockets = userSockets;
    this.ftmChannel = ftmChannel;
    this.ftmChannelServer = ftmChannelServer;
    this.armors = armors;
    this.settings = settings;
    this.system = system;
    this.relay = relay;
    this.shimServer = shimServer;
  }

  public static DaemonNode start(DaemonSettings settings) throws IOException, InterruptedException {
    // The node's identity: issued here on first start where the cluster's CA key is, else enrolled (docs/SECURITY.md).
    Pki pki = Pki.at(settings.home());
    Credentials credentials = pki.credentials(Identity.node(settings.node()));
    // A node that may host the FTM opens the launch environments in the replicated rows: it needs the tables key.
    Optional<TableSeal> tables = settings.ftmCapable() ? Optional.of(pki.tableSeal()) : Optional.empty();
    ClusterInfo cluster = findCluster(settings.ftmControl(), credentials);
    List<String> roles = new ArrayList<>(List.of("daemon"));
    if (settings.ftmCapable()) {
      roles.add(Ftm.ROLE);
    }
    // An FTM-capable node listens for the FTM channel too (the FTM may come to run here), before its actor system
    // starts: the FTM advertises the address from the node's configuration.
    FtmChannelServer channelServer = settings.ftmCapable() ? FtmChannelServer.bind(settings.host(), credentials) : null;
    com.typesafe.config.Config config = ClusterNodeConfig.build(settings.host(), settings.clusterPort(),
        cluster.getSeedNodesList(), roles, settings.detection(), credentials);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), ClusterNodeConfig.SYSTEM_NAME,
          channelServer == null ? config : dev.armor.ftm.FtmNode.withChannel(config, channelServer));
    } catch (RuntimeException e) {
      if (channelServer != null) {
        channelServer.close();
      }
      throw e;
    }
    try {
      return start(settings, system, cluster.getSeedNodesList(), channelServer, credentials, tables);
    } catch (IOException | RuntimeException | InterruptedException e) {
      if (channelServer != null) {
        channelServer.close();
      }
      system.terminate();
      throw e;
    }
  }

  private static DaemonNode start(DaemonSettings settings, ActorSystem<Void> system, List<String> seeds,
      FtmChannelServer channelServer, Credentials credentials, Optional<TableSeal> tables)
      throws IOException, InterruptedException {
    DistributedData.get(system);
    NodeLeases.startWitness(system);
    DaemonNode[] started = new DaemonNode[1];
    NodeLease nodeLease = NodeLeases.startHolder(system, settings.node(), why -> {
      // Not on the holder's thread: stopping waits for the actor system to end.
      Thread stop = new Thread(() -> {
        if (started[0] != null) {
          started[0].close(NodeDeclaredLost.INSTANCE);
        } else {
          system.terminate();
        }
      }, "armor-stop-lost-node");
      stop.start();
    });
    ActorRef<ArmorActor.Command> ftm = Ftm.init(system, tables);
    if (channelServer != null) {
      channelServer.start(ftm, system.scheduler());
    }
    // Mutual TLS as this node, taking only nodes of the cluster: the FTM channel and the relay's links.
    javax.net.ssl.SSLContext nodeTls = credentials.sslContext(java.util.EnumSet.of(Role.NODE));
    FtmChannel ftmChannel = new FtmChannel(settings.node(), settings.host(), nodeTls);
    String gatewayId = ArmorIds.daemon(settings.node());
    AtomicReference<ActorRef<ArmorActor.Command>> gatewayRef = new AtomicReference<>();
    java.util.Deque<ConnectionInfo> divergences = new java.util.concurrent.ConcurrentLinkedDeque<>();
    Relay relay = Relays.start(settings.dataPlane().relayConfig(settings.node(), settings.host()),
        new RelayEvents(gatewayId, gatewayRef, divergences), LinkTls.of(credentials));
    DaemonRouter router = new DaemonRouter(ftm, ftmChannel, settings.requestTimeout(), relay::clientArmorEnded);
    Cache<String, ServiceLocation> locations =
        Caffeine.newBuilder().maximumSize(100_000).expireAfter(new LocationExpiry()).build();
    ShimEndpoint[] endpoint = new ShimEndpoint[1];
    LocalArmors[] armors = new LocalArmors[1];
    Map<String, dev.armor.elements.wire.LaunchProcess> launches = new ConcurrentHashMap<>();
    Map<String, List<String>> migratedServices = new ConcurrentHashMap<>();
    AppCommServer appCommServer = new AppCommServer(settings.node(), InetAddress.getByName(settings.host()), relay,
        pid -> endpoint[0].probe(pid), pid -> endpoint[0].announcer(pid), settings.requestTimeout());
    List<dev.armor.elements.Element> elements =
        List.of(
            new AppCommClient(settings.node(), relay, locations, settings.requestTimeout(),
                appCommServer::servesLocally),
            appCommServer,
            new DaemonElement(settings.node(), launch -> armors[0].install(launch),
                () -> router.localArmors().keySet().stream().filter(id -> !id.equals(gatewayId))
                    .collect(java.util.stream.Collectors.toSet()),
                relay, launches, divergences, migratedServices, ftmChannel::advertised,
                appCommServer::registrations));
    ActorRef<ArmorActor.Command> gateway =
        system.systemActorOf(ArmorActor.create(gatewayId, elements, router, ArmorClock.SYSTEM), "daemon", Props.empty());
    gatewayRef.set(gateway);
    router.install(gatewayId, gateway);
    UserShimSockets userSockets = new UserShimSockets(settings.node(), settings.shimSocket(), () -> endpoint[0]);
    armors[0] = new LocalArmors(settings, system, router, gateway, gatewayId, ArmorClock.SYSTEM, userSockets);
    endpoint[0] = new ShimEndpoint(settings, gateway, system.scheduler(), relay, locations, launches,
        migratedServices, nodeLease);

    Path runDirectory = settings.runDirectory();
    Files.createDirectories(runDirectory);
    Files.setPosixFilePermissions(runDirectory, PosixFilePermissions.fromString("rwx------"));
    // The apps' logs (what they print, their command lines) are this user's only, as without Armor they would be.
    Files.createDirectories(settings.logDirectory());
    Files.setPosixFilePermissions(settings.logDirectory(), PosixFilePermissions.fromString("rwx------"));
    ShimControlServer shimServer = ShimControlServer.start(settings.shimSocket(), endpoint[0]);
    armors[0].start();
    // Whether the daemon is closed, stopped by a signal or its actor system ends: its ARMOR processes and their
    // apps stop with it.
    Thread stopArmors = new Thread(armors[0]::close, "armor-stop-execution-armors");
    Runtime.getRuntime().addShutdownHook(stopArmors);
    // The sockets of apps run as other users are outside $ARMOR_HOME: not left behind in the system's temp directory.
    Runtime.getRuntime().addShutdownHook(new Thread(userSockets::close, "armor-remove-user-shim-sockets"));
    system.getWhenTerminated().thenRun(armors[0]::close);
    DaemonNode daemon =
        new DaemonNode(settings, system, relay, shimServer, userSockets, armors[0], ftmChannel, channelServer);
    started[0] = daemon;
    if (settings.ftmCapable()) {
      // The control API answers from whichever node holds the FTM singleton (through the proxy), so the CLI and
      // joining daemons can use this node when the FTM process is gone. Its seeds include this node itself.
      List<String> controlSeeds = new ArrayList<>(seeds);
      String self = ClusterNodeConfig.address(settings.host(), settings.clusterPort());
      if (!controlSeeds.contains(self)) {
        controlSeeds.add(self);
      }
      try {
        daemon.controlApi = dev.armor.ftm.FtmNode.startControlApi(system, ftm, settings.host(), settings.controlPort(),
            controlSeeds, credentials);
      } catch (IOException e) {
        daemon.close();
        throw e;
      }
      log.info("daemon {}: FTM control API on {}:{}", settings.node(), settings.host(), settings.controlPort());
    }
    daemon.register(gateway, gatewayId);
    return daemon;
  }

  /** Registers with the FTM, retrying while the cluster forms and the FTM singleton starts. */
  private void register(ActorRef<ArmorActor.Command> gateway, String gatewayId) throws IOException, InterruptedException {
    DaemonRegistration registration =
        DaemonRegistration.newBuilder()
            .setNode(settings.node())
            .setArmorId(gatewayId)
            .setHost(settings.host())
            .setDataHost(relay.dataAddress().getAddress().getHostAddress())
            .setDataPort(relay.dataAddress().getPort())
            .setShimSocket(settings.shimSocket().toString())
            .setGatewayRef(org.apache.pekko.actor.typed.ActorRefResolver.get(system).toSerializationFormat(gateway))
            .setPid(ProcessHandle.current().pid())
            // when this process started: a certificate the FTM saw at this address before then was another's
            .setStartedAtMillis(java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime())
            .setClusterUid(org.apache.pekko.cluster.typed.Cluster.get(system).selfMember().uniqueAddress().longUid())
            .setHeartbeatMillis(settings.liveness().heartbeat().toMillis())
            .build();
    long deadline = System.nanoTime() + REGISTRATION_DEADLINE.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        ArmorMessage reply = Armors.request(gateway,
                Armors.message(gatewayId, ArmorIds.FTM, Ops.REGISTER_DAEMON, registration), Duration.ofSeconds(5),
                system.scheduler())
            .toCompletableFuture().get(6, TimeUnit.SECONDS);
        DaemonRegistered registered = Ops.unpack(reply.getPayload(), DaemonRegistered.class);
        if (!registered.getAskAgain().isEmpty()) {
          log.info("daemon {}: the FTM did not take the registration yet ({}); asking again", settings.node(),
              registered.getAskAgain());
          Thread.sleep(100); // a back-off between answered attempts: no event to wait for
          continue;
        }
        ftmChannel.advertised(registered.getFtmChannel());
        log.info("daemon {} up: node address {}, data plane {}, shim endpoint {}", settings.node(), settings.host(),
            relay.dataAddress(), settings.shimSocket());
        return;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        if (e.getCause() instanceof ArmorRequestException refused
            && refused.getMessage().startsWith(Ops.REGISTRATION_REFUSED)) {
          throw startFailed(new IOException("daemon " + settings.node() + ": the FTM " + refused.getMessage()));
        }
        last = e;
        log.info("daemon {}: the FTM is not answering yet ({}); retrying", settings.node(), e.getMessage());
      }
    }
    throw startFailed(new ConnectException("daemon " + settings.node() + " could not register with the FTM within "
        + REGISTRATION_DEADLINE.toSeconds() + " s: " + (last == null ? "no answer" : last.getMessage())));
  }

  /**
   * The daemon cannot finish starting: says why in its log, stops (its process then exits with status 1, see
   * {@link NodeStartFailed}) and returns {@code why} for the caller to throw, should the process outlive the stop.
   */
  private IOException startFailed(IOException why) {
    log.error("{}; stopping", why.getMessage());
    close(NodeStartFailed.INSTANCE);
    return why;
  }

  /**
   * Asks an FTM control API where the cluster's seed nodes are: the first of the comma-separated addresses that
   * answers (an FTM process, or an FTM-capable daemon). Goes round the addresses until {@link #FIND_CLUSTER_DEADLINE}:
   * an FTM that is still starting, or too busy to answer within one attempt's deadline, is asked again rather than
   * failing the daemon's start (a loaded machine was seen to need more than one 3 s attempt).
   */
  static ClusterInfo findCluster(String ftmControl, Credentials node) throws IOException {
    return findCluster(ftmControl, node, FIND_CLUSTER_DEADLINE);
  }

  static ClusterInfo findCluster(String ftmControl, Credentials node, Duration patience) throws IOException {
    io.grpc.ChannelCredentials tls = node.channelCredentials();
    String[] targets = ftmControl.split(",");
    long deadline = System.nanoTime() + patience.toNanos();
    List<String> failures = new ArrayList<>();
    for (int round = 1; ; round++) {
      failures.clear();
      int tlsFailures = 0;
      for (String target : targets) {
        long remainingMillis = Math.max(250, (deadline - System.nanoTime()) / 1_000_000);
        ManagedChannel channel = Grpc.newChannelBuilder(target.trim(), tls).build();
        try {
          // With one address, wait for it to come up; with several, move on to the next at once.
          var stub = ArmorControlGrpc.newBlockingStub(channel)
              .withDeadlineAfter(Math.min(remainingMillis, targets.length == 1 ? 10_000 : 3_000), TimeUnit.MILLISECONDS);
          return (targets.length == 1 ? stub.withWaitForReady() : stub).getCluster(GetClusterRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
          if (TlsHandshake.certificateRefusal(e.getStatus()).isPresent()) {
            tlsFailures++;
            failures.add(target.trim() + ": no TLS session with a node certificate of this node's cluster (another"
                + " cluster's FTM? this node trusts the CA in " + node.ca() + ")");
          } else {
            failures.add(target.trim() + ": " + describe(e.getStatus()));
          }
        } finally {
          channel.shutdownNow();
        }
      }
      if (tlsFailures == targets.length) {
        // Not an FTM still starting: asking again will not change whose certificates these are.
        throw new ConnectException("cannot use the FTM control API at " + String.join("; ", failures));
      }
      // Another round only if it can give an address a fair attempt; its failure would otherwise say too little.
      if (System.nanoTime() >= deadline - 250_000_000L) {
        throw new ConnectException("cannot reach the FTM control API at " + String.join("; ", failures) + " (asked "
            + round + " time(s) over " + patience.toMillis() + " ms)");
      }
      log.info("no FTM control API answered yet ({}); asking again", String.join("; ", failures));
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while looking for the FTM");
      }
    }
  }

  /** A gRPC status in one line (its toString carries the cause's whole stack trace). */
  private static String describe(io.grpc.Status status) {
    StringBuilder text = new StringBuilder(status.getCode().toString());
    if (status.getDescription() != null) {
      text.append(" (").append(status.getDescription()).append(')');
    }
    if (status.getCause() != null && status.getCause().getMessage() != null) {
      text.append(": ").append(status.getCause().getMessage());
    }
    return text.toString();
  }

  public DaemonSettings settings() {
    return settings;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public List<ConnectionInfo> connections() {
    return relay.connections();
  }

  public void awaitTermination() {
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @Override
  public void close() {
    close(null);
  }

  /** Stops everything; {@code reason} for the actor system's coordinated shutdown (null: a plain termination). */
  private void close(org.apache.pekko.actor.CoordinatedShutdown.Reason reason) {
    ftmChannel.close();
    if (ftmChannelServer != null) {
      ftmChannelServer.close();
    }
    armors.close();
    if (controlApi != null) {
      controlApi.shutdownNow();
    }
    shimServer.close();
    userSockets.close();
    if (reason == null) {
      system.terminate();
    } else {
      org.apache.pekko.actor.CoordinatedShutdown.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system))
          .run(reason);
    }
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("daemon {} did not stop cleanly: {}", settings.node(), e.toString());
    }
    relay.close();
  }

  /**
   * Relay events that change the daemon's state become operations for the gateway ARMOR; connections reset
   * because a replayed server diverged are kept (the last few) for status, since they are gone from the relay.
   */
  private record RelayEvents(String gatewayId, AtomicReference<ActorRef<ArmorActor.Command>> gateway,
      java.util.Deque<ConnectionInfo> divergences) implements RelayListener {
    static final int KEPT_DIVERGENCES = 50;

    @Override
    public void locationNeeded(ServiceAddress service) {
      ActorRef<ArmorActor.Command> ref = gateway.get();
      if (ref != null) {
        ArmorMessage message = Armors.message(gatewayId, gatewayId, Ops.LOCATION_NEEDED,
            LookupService.newBuilder().setService(service.toString()).build());
        ref.tell(new ArmorActor.Deliver(message, null));
      }
    }

    @Override
    public void connectionAttached(ConnectionInfo connection) {}

    @Override
    public void connectionHeld(ConnectionInfo connection, String reason) {}

    @Override
    public void connectionClosed(ConnectionInfo connection, String reason) {
      if (connection.divergedAtOffset() >= 0) {
        divergences.addFirst(connection);
        while (divergences.size() > KEPT_DIVERGENCES) {
          divergences.pollLast();
        }
      }
    }
  }

  /** A service's location is kept until the FTM changes it; "not a service" only briefly. */
  private static final class LocationExpiry implements Expiry<String, ServiceLocation> {
    private static final long NOT_FOUND_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long FOUND_NANOS = TimeUnit.MINUTES.toNanos(10);

    @Override
    public long expireAfterCreate(String key, ServiceLocation value, long currentTime) {
      return value.getFound() ? FOUND_NANOS : NOT_FOUND_NANOS;
    }

    @Override
    public long expireAfterUpdate(String key, ServiceLocation value, long currentTime, long currentDuration) {
      return expireAfterCreate(key, value, currentTime);
    }

    @Override
    public long expireAfterRead(String key, ServiceLocation value, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
