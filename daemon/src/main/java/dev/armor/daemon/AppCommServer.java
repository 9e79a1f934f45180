package dev.armor.daemon;

import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.wire.AppListening;
import dev.armor.elements.wire.AppUnlistened;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.RegisterServiceResult;
import dev.armor.elements.wire.RegistrationOutcome;
import dev.armor.elements.wire.SessionClosed;
import dev.armor.elements.wire.UnregisterService;
import dev.armor.relay.ClientAnnouncer;
import dev.armor.relay.LivenessProbe;
import dev.armor.relay.Relay;
import dev.armor.relay.ServiceAddress;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * APP_COMM_SERVER: the server side of the proxy. When a local protected app listens, it exposes the app's
 * listener to the relay and registers the service address with the FTM's APP_SERVER_DB (the app's bind returns
 * only then); when the app's process is gone, it withdraws the listener. A hand-wrapped app (no Execution
 * ARMOR) is served under the daemon's own ARMOR id and unregistered when it ends, since nobody restarts it.
 *
 * <p>Order. Registrations and unregistrations travel over the FTM channel when it is open (see {@link FtmChannel}),
 * through the cluster otherwise or when the channel closed before the answer: two paths, so one could overtake the
 * other. An app that closes its listener and binds the
 * same address again at once must not find its new registration removed by the old unregistration, nor a closed
 * listener registered after its unregistration. So, per service address, an unregistration waits for the
 * registrations in flight to be answered, and a registration waits for the unregistrations in flight; the FTM then
 * sees them in the order the app did them, whichever path each takes.
 */
final class AppCommServer implements Element {

  static final String NAME = "APP_COMM_SERVER";

  /** A service a local app listens for, and the registration that asked for it. */
  private record LocalService(long pid, String armorId, int appPort, RegisterService registration) {}

  /**
   * A registration waiting for the FTM's answer; {@code openedListener}: it opened the listener at the service
   * address, which closes again if the FTM refuses it.
   */
  private record Pending(ReplyHandle reply, LocalService candidate, LocalService previous, boolean exposedFirst,
      boolean openedListener) {}

  private final String node;
  private final InetAddress nodeAddress;
  private final Relay relay;
  private final LongFunction<LivenessProbe> probes;
  private final LongFunction<ClientAnnouncer> announcers;
  private final Duration requestTimeout;
  private final Map<String, LocalService> services = new HashMap<>();
  private final Map<String, Pending> pending = new HashMap<>();
  /** Per service address: registrations asked and not answered yet. */
  private final Map<String, Integer> registering = new HashMap<>();
  /** Per service address: unregistrations sent and not answered yet. */
  private final Map<String, Integer> unregistering = new HashMap<>();
  /** Unregistrations waiting for their address's registrations in flight. */
  private final Map<String, List<UnregisterService>> unregisterLater = new HashMap<>();
  /** Registrations (with the app's waiting reply) waiting for their address's unregistrations in flight. */
  private final Map<String, List<Waiting>> registerLater = new HashMap<>();

  /** A registration that waits for an unregistration of its address to be answered. */
  private record Waiting(AppListening listening, ReplyHandle reply) {}

  /**
   * @param probes the liveness probe of an app process, by pid
   * @param announcers how to tell an app process, by pid, which client a connection the relay makes to it carries
   */
  AppCommServer(String node, InetAddress nodeAddress, Relay relay, LongFunction<LivenessProbe> probes,
      LongFunction<ClientAnnouncer> announcers, Duration requestTimeout) {
    this.node = node;
    this.nodeAddress = nodeAddress;
    this.relay = relay;
    this.probes = probes;
    this.announcers = announcers;
    this.requestTimeout = requestTimeout;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.APP_LISTENING, Ops.APP_REGISTERED, Ops.SESSION_CLOSED, Ops.APP_UNLISTENED, Ops.APP_UNREGISTERED);
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.APP_LISTENING -> listening(Ops.argument(operation, AppListening.class), context);
      case Ops.APP_REGISTERED -> registered(Ops.argument(operation, RegistrationOutcome.class), context);
      case Ops.SESSION_CLOSED -> sessionClosed(Ops.argument(operation, SessionClosed.class), context);
      case Ops.APP_UNLISTENED -> unlistened(Ops.argument(operation, AppUnlistened.class), context);
      case Ops.APP_UNREGISTERED -> unregistered(Ops.argument(operation, UnregisterService.class), context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  private void listening(AppListening listening, ElementContext context) {
    ReplyHandle reply = context.deferReply();
    String service = listening.getRegistration().getService();
    if (count(unregistering, service) > 0) {
      registerLater.computeIfAbsent(service, s -> new java.util.ArrayList<>()).add(new Waiting(listening, reply));
      return;
    }
    register(listening, reply, context);
  }

  private void register(AppListening listening, ReplyHandle reply, ElementContext context) {
    RegisterService registration = listening.getRegistration();
    String service = registration.getService();
    LocalService candidate =
        new LocalService(registration.getPid(), registration.getArmorId(), listening.getAppPort(), registration);
    LocalService previous = services.get(service);
    // Clients Armor does not wrap connect at the address itself: the relay takes it before anything else, so that a
    // bind something else holds fails as the app's own would.
    boolean openedListener = false;
    InetSocketAddress own = ownListenAddress(service);
    if (own != null) {
      try {
        openedListener = relay.listenAtServiceAddress(ServiceAddress.parse(service), own);
      } catch (UncheckedIOException e) {
        context.log().warn("daemon {}: pid {} cannot serve {}: {}", node, candidate.pid(), service,
            e.getCause().getMessage());
        reply.fail(e.getCause().getMessage());
        return;
      }
    }
    // A recovery (same ARMOR, or nobody here yet) is exposed before it is registered: the FTM tells held clients
    // to re-attach as soon as it has the registration, and they must find the new listener. A bind that may
    // conflict with another local ARMOR is exposed only once the FTM accepted it, so the holder keeps serving.
    boolean exposeFirst = previous == null || previous.armorId().equals(candidate.armorId());
    if (exposeFirst) {
      expose(service, candidate);
    }
    Pending replaced = pending.put(key(service, candidate.pid()),
        new Pending(reply, candidate, previous, exposeFirst, openedListener));
    if (replaced != null) {
      replaced.reply().fail("superseded by a newer bind of " + service);
    }
    registering.merge(service, 1, Integer::sum);
    long pid = registration.getPid();
    context.pipeToSelf(
        context.ask(ArmorIds.FTM, Ops.REGISTER_SERVICE, registration, requestTimeout),
        (answer, failure) -> {
          RegistrationOutcome.Builder outcome = RegistrationOutcome.newBuilder().setService(service).setPid(pid);
          if (failure != null) {
            Throwable cause = failure.getCause() != null && failure instanceof java.util.concurrent.CompletionException
                ? failure.getCause() : failure;
            outcome.setError(cause.getMessage() == null ? cause.toString() : cause.getMessage());
          } else {
            outcome.setResult(Ops.unpack(answer.getPayload(), RegisterServiceResult.class));
          }
          return Ops.of(Ops.APP_REGISTERED, outcome.build());
        });
  }

  /**
   * The registrations of the services served here that the FTM accepted (not those still waiting for its answer),
   * for the daemon's report: an FTM that starts restores any its table lacks. Called on the daemon ARMOR's thread.
   */
  List<RegisterService> registrations() {
    return services.values().stream()
        .filter(local -> !pending.containsKey(key(local.registration().getService(), local.pid())))
        .map(LocalService::registration)
        .toList();
  }

  private void expose(String service, LocalService local) {
    services.put(service, local);
    relay.exposeLocalService(ServiceAddress.parse(service), new InetSocketAddress("127.0.0.1", local.appPort()),
        probes.apply(local.pid()), announcers.apply(local.pid()));
  }

  private void registered(RegistrationOutcome outcome, ElementContext context) {
    String service = outcome.getService();
    if (decrement(registering, service) == 0) {
      for (UnregisterService later : drain(unregisterLater, service)) {
        sendUnregister(later, context);
      }
    }
    Pending waiting = pending.remove(key(service, outcome.getPid()));
    if (waiting == null) {
      return; // superseded
    }
    if (!outcome.getError().isEmpty()) {
      if (waiting.exposedFirst() && waiting.previous() != null) {
        expose(service, waiting.previous());
      } else if (waiting.exposedFirst()) {
        services.remove(service);
        relay.withdrawLocalService(ServiceAddress.parse(service));
      }
      if (waiting.openedListener() && !services.containsKey(service)) {
        relay.stopListeningAtServiceAddress(ServiceAddress.parse(service));
      }
      context.log().warn("daemon {}: pid {} cannot serve {}: {}", node, outcome.getPid(), service, outcome.getError());
      waiting.reply().fail(outcome.getError());
      return;
    }
    if (!waiting.exposedFirst()) {
      expose(service, waiting.candidate());
    }
    if (ownListenAddress(service) != null) {
      // Clients that connect at the service address are this node's clients of the service: the relay learns it is
      // served here, and the FTM that this node wants its recoveries (a fresh registration has no client nodes).
      relay.serviceLocated(ServiceAddress.parse(service), relay.dataAddress(),
          AppCommClient.relayPolicy(waiting.candidate().registration().getRecovery()),
          AppCommClient.relayProtocol(waiting.candidate().registration().getProtocol()));
      context.send(ArmorIds.FTM, Ops.CLIENT_INTEREST,
          ClientInterest.newBuilder().setService(service).setNode(node).build());
    }
    RegisterServiceResult result = outcome.getResult();
    if (result.getRecovery()) {
      context.log().info("daemon {}: pid {} serves {} again (incarnation {}); the FTM told {} client node(s) to re-attach",
          node, outcome.getPid(), service, result.getIncarnation(), result.getClientNodesCount());
    } else {
      context.log().info("daemon {}: pid {} serves {}", node, outcome.getPid(), service);
    }
    waiting.reply().complete(result);
  }

  private void sessionClosed(SessionClosed closed, ElementContext context) {
    for (Map.Entry<String, LocalService> entry : List.copyOf(services.entrySet())) {
      LocalService local = entry.getValue();
      if (local.pid() != closed.getPid()) {
        continue;
      }
      String service = entry.getKey();
      withdraw(service);
      if (ArmorIds.isDaemon(local.armorId())) {
        context.log().info("daemon {}: pid {} serving {} ended; it was started by hand, so nobody restarts it: unregistering",
            node, closed.getPid(), service);
        unregister(service, local, "pid " + closed.getPid() + " ended and was not launched by Armor", context);
      } else {
        context.log().info("daemon {}: pid {} serving {} is gone; its Execution ARMOR {} restarts it",
            node, closed.getPid(), service, local.armorId());
      }
    }
  }

  /** A live app closed its listener: the service is no longer served, whoever launched the app. */
  private void unlistened(AppUnlistened closed, ElementContext context) {
    LocalService local = services.get(closed.getService());
    if (local == null || local.pid() != closed.getPid()) {
      return;
    }
    withdraw(closed.getService());
    context.log().info("daemon {}: pid {} closed its listener for {}: unregistering", node, closed.getPid(), closed.getService());
    unregister(closed.getService(), local, "pid " + closed.getPid() + " closed its listener", context);
  }

  private void withdraw(String service) {
    services.remove(service);
    relay.withdrawLocalService(ServiceAddress.parse(service));
  }

  /** Whether a local app serves {@code service} now (its registration may still wait for the FTM's answer). */
  boolean servesLocally(String service) {
    return services.containsKey(service);
  }

  /**
   * Where this node's relay listens for {@code service}'s clients that Armor does not wrap, or null: at the service
   * address itself when it is this node's own (a wildcard bind is served at the node's address), or a loopback
   * address on a node whose address is not one (a host of its own, whose loopback is its own). Nodes that share a
   * machine on loopback aliases (127.0.0.2, .3: tests, the benchmark) share 127.0.0.1 too; none takes it.
   */
  InetSocketAddress ownListenAddress(String service) {
    ServiceAddress address = ServiceAddress.parse(service);
    InetAddress host;
    try {
      host = InetAddress.getByName(address.host());
    } catch (java.net.UnknownHostException e) {
      return null;
    }
    boolean own = host.equals(nodeAddress) || (host.isLoopbackAddress() && !nodeAddress.isLoopbackAddress());
    return own ? new InetSocketAddress(host, address.port()) : null;
  }

  /**
   * The service is not served here any more: new clients at its address are refused at once, as without Armor (the
   * FTM's notice would close the listener too, later), and it is unregistered.
   */
  private void unregister(String service, LocalService local, String reason, ElementContext context) {
    relay.stopListeningAtServiceAddress(ServiceAddress.parse(service));
    UnregisterService unregistration =
        UnregisterService.newBuilder().setService(service).setArmorId(local.armorId()).setReason(reason).build();
    if (count(registering, service) > 0) {
      unregisterLater.computeIfAbsent(service, s -> new java.util.ArrayList<>()).add(unregistration);
    } else {
      sendUnregister(unregistration, context);
    }
  }

  /**
   * Asks the FTM to unregister; the answer, whatever it is (the FTM logs a refusal itself), or the timeout, lets the
   * registrations waiting for it go.
   */
  private void sendUnregister(UnregisterService unregistration, ElementContext context) {
    unregistering.merge(unregistration.getService(), 1, Integer::sum);
    context.pipeToSelf(context.ask(ArmorIds.FTM, Ops.UNREGISTER_SERVICE, unregistration, requestTimeout),
        (reply, failure) -> Ops.of(Ops.APP_UNREGISTERED, unregistration));
  }

  private void unregistered(UnregisterService unregistration, ElementContext context) {
    String service = unregistration.getService();
    if (decrement(unregistering, service) == 0) {
      for (Waiting later : drain(registerLater, service)) {
        register(later.listening(), later.reply(), context);
      }
    }
  }

  private static int count(Map<String, Integer> counts, String service) {
    return counts.getOrDefault(service, 0);
  }

  /** One fewer in flight for {@code service}; returns how many are left. */
  private static int decrement(Map<String, Integer> counts, String service) {
    Integer left = counts.computeIfPresent(service, (s, n) -> n > 1 ? n - 1 : null);
    return left == null ? 0 : left;
  }

  private static <T> List<T> drain(Map<String, List<T>> waiting, String service) {
    List<T> drained = waiting.remove(service);
    return drained == null ? List.of() : drained;
  }

  private static String key(String service, long pid) {
    return service + "#" + pid;
  }
}
