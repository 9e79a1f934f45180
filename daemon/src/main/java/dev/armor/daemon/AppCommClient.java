package dev.armor.daemon;

import com.github.benmanes.caffeine.cache.Cache;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.elements.wire.ServiceState;
import dev.armor.relay.Relay;
import dev.armor.relay.ServiceAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * APP_COMM_CLIENT: the client side of the proxy. It keeps the daemon's cache of service locations true (the
 * FTM tells it when a service recovers, moves or fails) and tells the relay where to attach, re-attach, hold or
 * reset the connections of local clients.
 */
final class AppCommClient implements Element {

  static final String NAME = "APP_COMM_CLIENT";

  private final String node;
  private final Relay relay;
  private final Cache<String, ServiceLocation> locations;
  private final Duration requestTimeout;
  private final Predicate<String> servedLocally;
  /** Services whose failure notice contradicted a local app serving them: a lookup is asking the FTM again. */
  private final Set<String> verifying = new HashSet<>();

  /**
   * @param servedLocally whether a local app serves a service now (APP_COMM_SERVER's view, on the same thread)
   */
  AppCommClient(String node, Relay relay, Cache<String, ServiceLocation> locations, Duration requestTimeout,
      Predicate<String> servedLocally) {
    this.node = node;
    this.relay = relay;
    this.locations = locations;
    this.requestTimeout = requestTimeout;
    this.servedLocally = servedLocally;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.SERVICE_LOCATED, Ops.SERVICE_RECOVERING, Ops.SERVICE_FAILED, Ops.LOCATION_NEEDED);
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.SERVICE_LOCATED, Ops.SERVICE_RECOVERING, Ops.SERVICE_FAILED ->
          apply(Ops.argument(operation, ServiceLocation.class), context);
      case Ops.LOCATION_NEEDED -> lookup(Ops.argument(operation, LookupService.class).getService(), context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  /** The relay has a client for a service whose location it does not know: ask the FTM. */
  private void lookup(String service, ElementContext context) {
    context.pipeToSelf(
        context.ask(ArmorIds.FTM, Ops.LOOKUP_SERVICE, LookupService.newBuilder().setService(service).build(), requestTimeout),
        (reply, failure) -> {
          if (failure != null) {
            context.log().warn("daemon {}: could not look up {}: {}; its clients stay held", node, service, failure.getMessage());
            return Ops.of(Ops.SERVICE_RECOVERING, ServiceLocation.newBuilder().setFound(true)
                .setEntry(dev.armor.elements.wire.ServiceEntry.newBuilder().setService(service)
                    .setState(ServiceState.RECOVERING).setReason("FTM not reachable")).build());
          }
          ServiceLocation location = Ops.unpack(reply.getPayload(), ServiceLocation.class);
          return Ops.of(Ops.SERVICE_LOCATED, location.getFound() ? location
              : location.toBuilder().setEntry(location.getEntry().toBuilder().setService(service)).build());
        });
  }

  /** The relay's name for a service's recovery policy. */
  static dev.armor.relay.RecoveryPolicy relayPolicy(dev.armor.elements.wire.RecoveryPolicy policy) {
    return policy == dev.armor.elements.wire.RecoveryPolicy.REPLAY
        ? dev.armor.relay.RecoveryPolicy.REPLAY
        : dev.armor.relay.RecoveryPolicy.RECONNECT;
  }

  /** The relay's name for a service's protocol (which protocol recovery elements read its connections). */
  static dev.armor.relay.AppProtocol relayProtocol(dev.armor.elements.wire.AppProtocol protocol) {
    return switch (protocol) {
      case PROTOCOL_HTTP1 -> dev.armor.relay.AppProtocol.HTTP1;
      case PROTOCOL_HTTP2 -> dev.armor.relay.AppProtocol.HTTP2;
      case PROTOCOL_GENERIC -> dev.armor.relay.AppProtocol.GENERIC;
      default -> dev.armor.relay.AppProtocol.AUTO; // PROTOCOL_AUTO, or a value of a later version
    };
  }

  /** Brings the cache and the relay in line with what the FTM says of a service. */
  void apply(ServiceLocation location, ElementContext context) {
    String service = location.getEntry().getService();
    ServiceAddress address = ServiceAddress.parse(service);
    boolean gone = !location.getFound() || location.getEntry().getState() == ServiceState.FAILED;
    if (gone && servedLocally.test(service) && verifying.add(service)) {
      // The notice may be older than the local app's registration (it closed its listener and bound it again, and
      // the notice of the close came late): the FTM's answer to a lookup now is its current view, applied as is.
      context.log().info("daemon {}: the FTM says {} is gone, but a local app serves it: asking the FTM again",
          node, service);
      lookup(service, context);
      return;
    }
    verifying.remove(service);
    if (gone) {
      locations.invalidate(service);
      String reason = location.getFound() ? location.getEntry().getReason() : "no server is registered for it";
      context.log().warn("daemon {}: service {} is gone ({}); resetting its client connections", node, service, reason);
      relay.serviceFailed(address, "service " + service + " failed: " + reason);
      return;
    }
    locations.put(service, location);
    if (location.getEntry().getState() == ServiceState.UP && !location.getDataHost().isEmpty()) {
      context.log().info("daemon {}: service {} is served on node {} (incarnation {}); attaching its client connections",
          node, service, location.getEntry().getNode(), location.getEntry().getIncarnation());
      relay.serviceLocated(address, new InetSocketAddress(location.getDataHost(), location.getDataPort()),
          relayPolicy(location.getEntry().getRecovery()), relayProtocol(location.getEntry().getProtocol()));
    } else {
      context.log().info("daemon {}: service {} is recovering ({}); holding its client connections",
          node, service, location.getEntry().getReason());
      relay.serviceRecovering(address);
    }
  }
}
