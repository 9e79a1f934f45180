package dev.armor.daemon;

import com.github.benmanes.caffeine.cache.Cache;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.AppListening;
import dev.armor.elements.wire.AppUnlistened;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.ProcessHeartbeat;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.elements.wire.ServiceState;
import dev.armor.elements.wire.SessionClosed;
import dev.armor.ftm.lease.NodeLease;
import dev.armor.relay.ClientAnnouncer;
import dev.armor.relay.LivenessProbe;
import dev.armor.relay.Relay;
import dev.armor.relay.ServiceAddress;
import dev.armor.shim.control.ShimRequestHandler;
import dev.armor.shim.control.ShimSession;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's endpoint for the shims of its node's apps. It runs on the shim server's threads, so it may block
 * on a request to the FTM; what changes the daemon's state goes to the gateway ARMOR as an operation.
 *
 * <p>Connect: a destination the FTM knows as a service is rerouted to the relay's loopback listener for it (one
 * per service for wrapped apps, one per service and ARMOR for protected clients); anything else goes direct. Locations are cached (Caffeine): a hit costs no request, a "not a service" answer is
 * kept only briefly, and APP_COMM_CLIENT updates entries when the FTM reports a recovery, move or failure.
 */
final class ShimEndpoint implements ShimRequestHandler {

  private static final Logger log = LoggerFactory.getLogger(ShimEndpoint.class);

  private final DaemonSettings settings;
  /** The node's own address ({@code --host}), resolved once. */
  private final java.net.InetAddress nodeAddress;
  private final ActorRef<ArmorActor.Command> gateway;
  private final Scheduler scheduler;
  private final Relay relay;
  private final Cache<String, ServiceLocation> locations;
  private final Map<Long, ShimSession> sessions = new ConcurrentHashMap<>();
  /** The sessions whose pid is proven to be their app here ({@link AppProcess#isShimmedBy}), with its stat open. */
  private final Map<ShimSession, AppProcess.StatFile> pidChecked = new ConcurrentHashMap<>();
  private final String gatewayId;
  private final Map<String, LaunchProcess> launches;
  private final Map<String, java.util.List<String>> migratedServices;
  private final NodeLease nodeLease;

  ShimEndpoint(DaemonSettings settings, ActorRef<ArmorActor.Command> gateway, Scheduler scheduler, Relay relay,
      Cache<String, ServiceLocation> locations, Map<String, LaunchProcess> launches) {
    this(settings, gateway, scheduler, relay, locations, launches, Map.of());
  }

  /**
   * @param migratedServices for an Execution ARMOR the FTM migrated here from a lost node: the service addresses it
   *     took over, so a wildcard bind of one of their ports keeps the address its clients know
   */
  ShimEndpoint(DaemonSettings settings, ActorRef<ArmorActor.Command> gateway, Scheduler scheduler, Relay relay,
      Cache<String, ServiceLocation> locations, Map<String, LaunchProcess> launches,
      Map<String, java.util.List<String>> migratedServices) {
    this(settings, gateway, scheduler, relay, locations, launches, migratedServices, NodeLease.OFF);
  }

  /** @param nodeLease the node's lease, which every heartbeat's answer tells the app (its shim halts when it ends) */
  ShimEndpoint(DaemonSettings settings, ActorRef<ArmorActor.Command> gateway, Scheduler scheduler, Relay relay,
      Cache<String, ServiceLocation> locations, Map<String, LaunchProcess> launches,
      Map<String, java.util.List<String>> migratedServices, NodeLease nodeLease) {
    this.nodeLease = nodeLease;
    this.migratedServices = migratedServices;
    this.launches = launches;
    this.settings = settings;
    this.nodeAddress = resolve(settings.host());
    this.gateway = gateway;
    this.scheduler = scheduler;
    this.relay = relay;
    this.locations = locations;
    this.gatewayId = ArmorIds.daemon(settings.node());
  }

  @Override
  public int nodeLeaseMillis() {
    return nodeLease.remainingMillis();
  }

  /**
   * Whether the app process {@code pid} is alive (asked when one of its connections ended): no session, dead; the
   * kernel shows the process running and not exiting, alive at once ({@link AppProcess} says why that is enough);
   * otherwise its shim must answer a ping within the relay's grace.
   */
  LivenessProbe probe(long pid) {
    return () -> {
      ShimSession session = sessions.get(pid);
      if (session == null) {
        return CompletableFuture.completedFuture(false);
      }
      AppProcess.StatFile stat = pidChecked.get(session);
      if (stat != null && stat.runningAndNotExiting()) {
        return CompletableFuture.completedFuture(true);
      }
      return session.ping(Duration.ofMillis(500));
    };
  }

  /**
   * Tells the app process {@code pid}, before the relay connects to it, which client the connection carries (its
   * shim's accept then needs no {@code peerOf} round trip). Never blocks the relay's event loop.
   */
  ClientAnnouncer announcer(long pid) {
    return new ClientAnnouncer() {
      @Override
      public void connecting(int localPort, InetSocketAddress client) {
        ShimSession session = sessions.get(pid);
        if (session != null) {
          session.announcePeer(localPort, client);
        }
      }

      /** The direct path: the shim's accept knows a connection by its peer's port (loopback peers only). */
      @Override
      public void connectingFrom(InetSocketAddress from, InetSocketAddress client) {
        connecting(from.getPort(), client);
      }
    };
  }

  @Override
  public void sessionOpened(ShimSession session) {
    if (AppProcess.isShimmedBy(session.pid(), settings.shimSocket())) {
      AppProcess.StatFile stat = AppProcess.StatFile.open(session.pid());
      if (stat != null) {
        pidChecked.put(session, stat);
      }
    }
    sessions.put(session.pid(), session);
    log.debug("shim of pid {} connected (ARMOR {})", session.pid(), session.armorId());
  }

  @Override
  public void sessionClosed(ShimSession session) {
    sessions.remove(session.pid(), session);
    AppProcess.StatFile stat = pidChecked.remove(session);
    if (stat != null) {
      stat.close();
    }
    tell(gatewayId, Ops.SESSION_CLOSED,
        SessionClosed.newBuilder().setPid(session.pid()).setArmorId(armorOf(session)).build());
  }

  /**
   * A protected app's beat goes to its Execution ARMOR, which watches for hangs. One small message per beat (two
   * a second per app at the default interval) through the gateway, which routes it locally; the shim has already
   * been answered, so a busy ARMOR cannot make a live daemon look dead to its apps.
   */
  @Override
  public void heartbeat(ShimSession session, long beat) {
    if (session.armorId() == null || session.armorId().isEmpty()) {
      return; // a hand-wrapped app: nobody watches it
    }
    tell(session.armorId(), Ops.PROCESS_HEARTBEAT,
        ProcessHeartbeat.newBuilder().setPid(session.pid()).setBeat(beat).build());
  }

  /**
   * A connect to localhost (127.0.0.1, ::1) is a connect to this node's own loopback: without Armor it reaches a
   * server of this host only. So it is rerouted to a service that a local app bound there (a loopback bind of
   * another node is no server of this host: the connect goes as asked and is refused, as without Armor), or to the
   * service served here at the node's address on the same port: a wildcard bind, which without Armor answers at
   * localhost too (an app that connects to itself at {@code localhost:PORT}, as H2 does at start).
   */
  @Override
  public Route route(ShimSession session, InetSocketAddress destination) {
    if (destination.getAddress() == null || destination.getAddress().isAnyLocalAddress()) {
      return new Route.Direct();
    }
    if (!isLocalhost(destination.getAddress()) || destination.getAddress().equals(nodeAddress)) {
      return route(session, ServiceAddress.of(destination).toString(), false);
    }
    Route boundHere = route(session, ServiceAddress.of(destination).toString(), true);
    if (!(boundHere instanceof Route.Direct)) {
      return boundHere;
    }
    return route(session, new ServiceAddress(settings.host(), destination.getPort()).toString(), true);
  }

  /**
   * Whether {@code address} is what {@code localhost} means: 127.0.0.1 or ::1. Not the rest of 127.0.0.0/8: nodes
   * that share one machine take their addresses there (127.0.0.2, 127.0.0.3), and those are other nodes.
   */
  private static boolean isLocalhost(java.net.InetAddress address) {
    byte[] bytes = address.getAddress();
    return address.isLoopbackAddress()
        && (bytes.length == 16 || (bytes[0] == 127 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 1));
  }

  /** Where a connect to {@code service} goes; {@code servedHere}: only to a service this node serves. */
  private Route route(ShimSession session, String service, boolean servedHere) {
    ServiceLocation location = locations.getIfPresent(service);
    boolean looked = location == null;
    if (looked) {
      try {
        location = lookup(service);
      } catch (Exception e) {
        return new Route.Fail("Armor could not ask the FTM whether " + service + " is a protected service: " + rootMessage(e));
      }
      locations.put(service, location);
    }
    if (!location.getFound() || (servedHere && !location.getEntry().getNode().equals(settings.node()))) {
      return new Route.Direct();
    }
    if (location.getEntry().getState() == ServiceState.FAILED) {
      return new Route.Fail("Connection refused: Armor service " + service + " is down: " + location.getEntry().getReason());
    }
    ServiceAddress address = ServiceAddress.parse(service);
    // A protected client (its session carries an ARMOR id) gets a listener of its own per service: which listener
    // accepted a connection says whose it is, so that if its process dies the relay keeps the server's connection
    // for the instance its Execution ARMOR restarts (docs/ARCHITECTURE.md, "Client crash"). The probe is this
    // process's: the shim caches its route, so a restarted instance routes again and brings its own.
    boolean protectedClient = session.armorId() != null && !session.armorId().isEmpty();
    int port = protectedClient
        ? relay.openServiceListener(address, session.armorId(), probe(session.pid()))
        : relay.openServiceListener(address);
    if (looked) {
      // Fresh from the FTM (first use, or the cached entry was dropped): tell the relay where the service is, and
      // the FTM that this node has clients of it, so it is told of the service's recoveries. Both are idempotent.
      if (location.getEntry().getState() == ServiceState.UP && !location.getDataHost().isEmpty()) {
        relay.serviceLocated(address, new InetSocketAddress(location.getDataHost(), location.getDataPort()),
            AppCommClient.relayPolicy(location.getEntry().getRecovery()),
            AppCommClient.relayProtocol(location.getEntry().getProtocol()));
      } else {
        relay.serviceRecovering(address);
      }
      tell(ArmorIds.FTM, Ops.CLIENT_INTEREST,
          ClientInterest.newBuilder().setService(service).setNode(settings.node()).build());
    }
    return new Route.Via(port);
  }

  /** The launch of the session's Execution ARMOR; the defaults (reconnect, auto) for an app wrapped by hand. */
  private LaunchProcess launchOf(ShimSession session) {
    return launches.getOrDefault(armorOf(session), LaunchProcess.getDefaultInstance());
  }

  @Override
  public Verdict listening(ShimSession session, InetSocketAddress requested, int actualPort) {
    String service = serviceAddress(session, requested);
    RegisterService registration =
        RegisterService.newBuilder()
            .setService(service)
            .setArmorId(armorOf(session))
            .setNode(settings.node())
            .setPid(session.pid())
            .setRecovery(launchOf(session).getRecovery())
            .setProtocol(launchOf(session).getProtocol())
            .build();
    try {
      request(Armors.message(gatewayId, gatewayId, Ops.APP_LISTENING,
          AppListening.newBuilder().setRegistration(registration).setAppPort(actualPort).build()));
      return new Verdict.Ok();
    } catch (Exception e) {
      return new Verdict.Fail("Address already in use: Armor could not register " + service + ": " + rootMessage(e));
    }
  }

  @Override
  public void unlistened(ShimSession session, InetSocketAddress requested) {
    tell(gatewayId, Ops.APP_UNLISTENED,
        AppUnlistened.newBuilder().setPid(session.pid()).setService(serviceAddress(session, requested)).build());
  }

  @Override
  public Optional<InetSocketAddress> peerOf(ShimSession session, int daemonPort) {
    return relay.clientOfLocalPort(daemonPort);
  }

  /**
   * The service address clients use: a wildcard bind is served at the node's own address, unless the app's ARMOR
   * was migrated here and took over a service on that port (then the service keeps the address clients know).
   */
  private String serviceAddress(ShimSession session, InetSocketAddress requested) {
    if (requested.getAddress() == null || requested.getAddress().isAnyLocalAddress()) {
      for (String migrated : migratedServices.getOrDefault(armorOf(session), java.util.List.of())) {
        if (ServiceAddress.parse(migrated).port() == requested.getPort()) {
          return migrated;
        }
      }
      return new ServiceAddress(settings.host(), requested.getPort()).toString();
    }
    return ServiceAddress.of(requested).toString();
  }

  private String armorOf(ShimSession session) {
    return session.armorId() == null || session.armorId().isEmpty() ? gatewayId : session.armorId();
  }

  /** Sends a one-operation message through the gateway (to the gateway itself, or routed on); no reply. */
  private void tell(String to, String type, com.google.protobuf.Message argument) {
    gateway.tell(new ArmorActor.Deliver(Armors.message(gatewayId, to, type, argument), null));
  }

  private ServiceLocation lookup(String service) throws Exception {
    ArmorMessage reply = request(Armors.message(gatewayId, ArmorIds.FTM, Ops.LOOKUP_SERVICE,
        LookupService.newBuilder().setService(service).build()));
    return Ops.unpack(reply.getPayload(), ServiceLocation.class);
  }

  private ArmorMessage request(ArmorMessage message) throws Exception {
    Duration timeout = settings.requestTimeout();
    try {
      return Armors.request(gateway, message, timeout, scheduler)
          .toCompletableFuture()
          .get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static java.net.InetAddress resolve(String host) {
    try {
      return java.net.InetAddress.getByName(host);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("the node's address " + host + " does not resolve", e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
