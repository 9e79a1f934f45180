package dev.armor.relay.internal;

import dev.armor.relay.LivenessProbe;
import dev.armor.relay.AppProtocol;
import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client side: one remote service the local apps connect to. Holds where it is served ({@link Route}), the
 * loopback listener the shim reroutes the apps' connects to, and the connections accepted there.
 *
 * <p>The route is replaced (never mutated) under this object's lock by the daemon's calls and read lock-free by
 * the connections' loops. A connection registers itself before reading the route and the relay replaces the route
 * before notifying the registered connections, so a connection accepted during {@code serviceLocated} sees the new
 * route one way or the other (possibly both ways: connections treat route changes idempotently by version).
 */
final class ClientService {

  /**
   * Where the service is served, as last told by the daemon.
   *
   * @param daemon the server daemon's data address; null if not known
   * @param recovering the daemon said the service is recovering: the known location is stale, hold, do not retry
   * @param failure non-null if the service failed for good: reset held and new connections
   * @param policy what the service's connections get when its server is restarted; applies from now on to new
   *     connections and to held ones when they re-attach
   * @param protocol which protocol recovery elements read its connections; applies to connections accepted from now on
   * @param version increases with every daemon call, so that {@code serviceLocated} with an unchanged location
   *     still counts as new (the app restarted behind the same daemon)
   */
  record Route(
      InetSocketAddress daemon,
      boolean recovering,
      String failure,
      RecoveryPolicy policy,
      AppProtocol protocol,
      long version) {

    /** A connection may open a link to {@link #daemon} now. */
    boolean usable() {
      return daemon != null && !recovering && failure == null;
    }
  }

  /**
   * The listener of one protected client (the apps of one ARMOR) for this service, and its connections whose app
   * died (ORPHANED), waiting for the ARMOR's restarted instance. All its connections run on {@link #loop}, so a new
   * connection and the orphans it may adopt meet without locks.
   */
  static final class ClientArmor {
    final String armorId;
    final EventLoop loop;
    /** Asks whether the ARMOR's current process is alive; replaced when a restarted instance routes. */
    volatile LivenessProbe probe;
    /** Orphaned connections, oldest first. Confined to {@link #loop}. */
    final ArrayDeque<ClientConnection> orphans = new ArrayDeque<>();
    /** How many of its connections are being probed (their app side ended). Confined to {@link #loop}. */
    int probing;
    /** Connections accepted while some were being probed: started, in order, once none is. Confined to the loop. */
    final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    Channel listener; // guarded by the ClientService
    /** Why the ARMOR will not restart its apps (it stopped or gave up), once known; else null. Confined to the loop. */
    String endedBecause;

    ClientArmor(String armorId, EventLoop loop, LivenessProbe probe) {
      this.armorId = armorId;
      this.loop = loop;
      this.probe = probe;
    }

    /** On the loop: no restarted instance will come, so its orphans (and any connection orphaned later) end now. */
    void ended(String why) {
      endedBecause = why;
      for (ClientConnection orphan : new java.util.ArrayList<>(orphans)) {
        orphan.armorEnded();
      }
    }
  }

  final ServiceAddress service;
  /**
   * The direct path failed for this service (a direct connect to its app failed, or its daemon refused the direct
   * OPEN: see {@link ClientConnection}, direct path): its connections are relayed from then on, until this daemon
   * restarts. Written and read on event loops.
   */
  volatile boolean directUnreachable;
  final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
  /** Per protected client ARMOR id; guarded by this. */
  final java.util.Map<String, ClientArmor> armors = new java.util.HashMap<>();
  private volatile Route route = new Route(null, false, null, RecoveryPolicy.RECONNECT, AppProtocol.AUTO, 0);
  private Channel listener; // guarded by this
  /** The listener at the service address itself, for clients Armor does not wrap; guarded by this. */
  private Channel serviceAddressListener;

  ClientService(ServiceAddress service) {
    this.service = service;
  }

  Route route() {
    return route;
  }

  /** Located at {@code daemon}; a null {@code policy} or {@code protocol} keeps the service's current one. */
  synchronized Route located(InetSocketAddress daemon, RecoveryPolicy policy, AppProtocol protocol) {
    route = new Route(daemon, false, null, policy == null ? route.policy() : policy,
        protocol == null ? route.protocol() : protocol, route.version() + 1);
    return route;
  }

  synchronized Route recovering() {
    route = new Route(route.daemon(), true, null, route.policy(), route.protocol(), route.version() + 1);
    return route;
  }

  synchronized Route failed(String reason) {
    route = new Route(null, false, reason, route.policy(), route.protocol(), route.version() + 1);
    return route;
  }

  synchronized Channel listener() {
    return listener;
  }

  synchronized void listener(Channel channel) {
    listener = channel;
  }

  synchronized Channel serviceAddressListener() {
    return serviceAddressListener;
  }

  synchronized void serviceAddressListener(Channel channel) {
    serviceAddressListener = channel;
  }
}
