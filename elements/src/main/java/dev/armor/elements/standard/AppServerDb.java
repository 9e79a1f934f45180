package dev.armor.elements.standard;

import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.FailServices;
import dev.armor.elements.wire.ReassignServices;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.RegisterServiceResult;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.elements.wire.ServiceState;
import dev.armor.elements.wire.UnregisterService;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * APP_SERVER_DB: which ARMOR serves which service address.
 *
 * <p>A registration of an address by the ARMOR that held it before is a recovery: the entry's incarnation goes
 * up and the daemons that carry client connections to the address (they declared a {@link ClientInterest}) are
 * told where to re-attach them. A process exit puts its entries in RECOVERING (clients are held), a restart
 * policy giving up puts them in FAILED (clients are reset), a normal stop removes them.
 *
 * <p>Every change is written through a {@link Store} so the table survives the FTM moving to another node.
 */
public final class AppServerDb implements Element {

  public static final String NAME = "APP_SERVER_DB";

  /** Where the table is replicated, each row under its {@link #keyOf(ServiceEntry) key}. Writes must not block. */
  public interface Store {
    void put(ServiceEntry entry);

    void remove(String key);
  }

  /** Where a node's daemon takes data-plane links. */
  public interface NodeDirectory {
    /** host:port of the node's data plane, if the node is known and live. */
    Optional<java.net.InetSocketAddress> dataAddress(String node);
  }

  private final Map<String, ServiceEntry> table = new TreeMap<>();
  private final Store store;
  private final NodeDirectory nodes;

  public AppServerDb(Collection<ServiceEntry> restored, Store store, NodeDirectory nodes) {
    for (ServiceEntry entry : restored) {
      table.put(keyOf(entry), entry);
    }
    this.store = store;
    this.nodes = nodes;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.REGISTER_SERVICE, Ops.UNREGISTER_SERVICE, Ops.LOOKUP_SERVICE, Ops.CLIENT_INTEREST, Ops.PROCESS_EVENT,
        Ops.REASSIGN_SERVICES, Ops.FAIL_SERVICES);
  }

  /** A copy of the table, for status. */
  public List<ServiceEntry> entries() {
    return new ArrayList<>(table.values());
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.REGISTER_SERVICE -> register(Ops.argument(operation, RegisterService.class), context);
      case Ops.UNREGISTER_SERVICE -> unregister(Ops.argument(operation, UnregisterService.class), context);
      case Ops.LOOKUP_SERVICE ->
          context.setPayload(locate(Ops.argument(operation, LookupService.class).getService(), senderNode(context)));
      case Ops.CLIENT_INTEREST -> interest(Ops.argument(operation, ClientInterest.class));
      case Ops.PROCESS_EVENT -> processEvent(Ops.argument(operation, ProcessEvent.class), context);
      case Ops.REASSIGN_SERVICES -> reassign(Ops.argument(operation, ReassignServices.class), context);
      case Ops.FAIL_SERVICES -> {
        FailServices fail = Ops.argument(operation, FailServices.class);
        fail(fail.getArmorId(), fail.getReason(), context);
      }
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  /**
   * The node whose daemon sent the request, if a daemon did: a daemon may register and unregister only its own node's
   * services. Its ARMOR id is what it claims to be: the cluster and the FTM channel take only node certificates, and
   * the FTM channel only requests sent as the daemon its peer's certificate names.
   */
  private static String senderNode(ElementContext context) {
    String from = context.message().getFrom();
    return ArmorIds.isDaemon(from) ? ArmorIds.nodeOfDaemon(from) : null;
  }

  private void register(RegisterService request, ElementContext context) {
    String service = request.getService();
    String sender = senderNode(context);
    if (sender != null && !sender.equals(request.getNode())) {
      context.fail("node " + sender + "'s daemon may not register " + service + " for node " + request.getNode());
      return;
    }
    validateService(service);
    ServiceEntry existing = table.get(keyOf(service, request.getNode()));
    if (existing != null && existing.getState() != ServiceState.FAILED && !existing.getArmorId().equals(request.getArmorId())) {
      context.fail(
          "service address " + service + " is already served by ARMOR " + existing.getArmorId() + " (pid "
              + existing.getPid() + ") on node " + existing.getNode() + ", " + describe(existing.getState()));
      return;
    }
    context.setPayload(record(request, existing, context));
  }

  /**
   * A registration a daemon reports when the FTM starts (its report in the FTM's reconciliation) that the table
   * lacks: the table is replicated behind the FTM's answers, so an FTM that took over may start without the newest
   * registrations. Recorded as if asked now: a new row, or the recovery of a RECOVERING row of the same ARMOR (its
   * held clients are told where it is). A row the table has otherwise (up, failed, another ARMOR's) is newer or
   * decided by the FTM, and stays.
   */
  public void restore(RegisterService reported, String node, ElementContext context) {
    ServiceEntry existing = table.get(keyOf(reported.getService(), node));
    boolean lost = existing == null
        || (existing.getState() == ServiceState.RECOVERING && existing.getArmorId().equals(reported.getArmorId()));
    if (!lost) {
      return;
    }
    context.log().warn("APP_SERVER_DB: node {} serves {} (ARMOR {}, pid {}), which the table {}: the registration was "
        + "lost with the previous FTM; restoring it", node, reported.getService(), reported.getArmorId(),
        reported.getPid(), existing == null ? "lacks" : "has as recovering");
    record(reported, existing, context);
  }

  /** Records {@code request} (not conflicting with {@code existing}) as UP; tells held clients if a recovery. */
  private RegisterServiceResult record(RegisterService request, ServiceEntry existing, ElementContext context) {
    String service = request.getService();
    boolean recovery = false;
    ServiceEntry.Builder entry;
    if (existing == null) {
      entry = ServiceEntry.newBuilder().setService(service).setIncarnation(1);
    } else {
      recovery = true;
      entry = existing.toBuilder().setIncarnation(existing.getIncarnation() + 1);
    }
    ServiceEntry updated =
        entry
            .setArmorId(request.getArmorId())
            .setNode(request.getNode())
            .setPid(request.getPid())
            .setRecovery(request.getRecovery())
            .setProtocol(request.getProtocol())
            .setState(ServiceState.UP)
            .setChangedAtMillis(context.currentTimeMillis())
            .setReason(recovery ? "recovered: pid " + request.getPid() + " bound it again" : "registered by pid " + request.getPid())
            .build();
    put(updated);
    if (recovery) {
      context.log().info(
          "APP_SERVER_DB: recovery of {} recognised (ARMOR {}, pid {}, incarnation {}); telling {} client node(s) to re-attach: {}",
          service, updated.getArmorId(), updated.getPid(), updated.getIncarnation(), updated.getClientNodesCount(),
          updated.getClientNodesList());
      tellClients(updated, Ops.SERVICE_LOCATED, located(updated), context);
    } else {
      context.log().info("APP_SERVER_DB: {} registered, served by ARMOR {} (pid {}) on node {}",
          service, updated.getArmorId(), updated.getPid(), updated.getNode());
    }
    return RegisterServiceResult.newBuilder()
        .setRecovery(recovery)
        .setIncarnation(updated.getIncarnation())
        .addAllClientNodes(updated.getClientNodesList())
        .build();
  }

  /** The service addresses {@code armorId} holds, for a migration to carry them to the new node. */
  public List<String> servicesOf(String armorId) {
    return table.values().stream().filter(e -> e.getArmorId().equals(armorId)).map(ServiceEntry::getService).toList();
  }

  /**
   * The FTM moves an ARMOR's work to a new ARMOR on another node: its services now belong to the new ARMOR and node,
   * RECOVERING (their clients are told to hold), so the migrated process's registration is recognised as their
   * recovery, and the old ARMOR id can never register them again. Idempotent: a new FTM finishing an interrupted
   * migration may repeat it.
   */
  public void reassign(ReassignServices move, ElementContext context) {
    for (ServiceEntry entry : List.copyOf(table.values())) {
      if (!entry.getArmorId().equals(move.getFromArmorId())) {
        continue;
      }
      ServiceEntry moved = entry.toBuilder()
          .setArmorId(move.getToArmorId())
          .setNode(move.getToNode())
          .setPid(0)
          .setState(ServiceState.RECOVERING)
          .setReason(move.getReason())
          .setChangedAtMillis(context.currentTimeMillis())
          .build();
      if (!keyOf(moved).equals(keyOf(entry))) { // a localhost service: the new node's own localhost from now on
        drop(entry);
      }
      put(moved);
      context.log().info("APP_SERVER_DB: {} moves from ARMOR {} to ARMOR {} on node {} ({}); holding its {} client node(s)",
          entry.getService(), move.getFromArmorId(), move.getToArmorId(), move.getToNode(), move.getReason(),
          moved.getClientNodesCount());
      tellClients(moved, Ops.SERVICE_RECOVERING, located(moved), context);
    }
  }

  /**
   * Puts a row back as it was before a planned move that failed (the move's old instance still serves): UP under its
   * old ARMOR and pid, a newer incarnation, and its clients, held by the move, told to re-attach there.
   */
  public void reinstate(ServiceEntry previous, String reason, ElementContext context) {
    ServiceEntry current = table.get(keyOf(previous));
    ServiceEntry back = previous.toBuilder()
        .setIncarnation((current == null ? previous : current).getIncarnation() + 1)
        .clearClientNodes().addAllClientNodes((current == null ? previous : current).getClientNodesList())
        .setReason(reason)
        .setChangedAtMillis(context.currentTimeMillis())
        .build();
    put(back);
    context.log().info("APP_SERVER_DB: {} served by ARMOR {} (pid {}) on node {} again ({}); telling {} client node(s)",
        back.getService(), back.getArmorId(), back.getPid(), back.getNode(), reason, back.getClientNodesCount());
    tellClients(back, Ops.SERVICE_LOCATED, located(back), context);
  }

  /** Every service of {@code armorId} goes FAILED (its clients are reset): there is nowhere to run it. */
  public void fail(String armorId, String reason, ElementContext context) {
    for (ServiceEntry entry : List.copyOf(table.values())) {
      if (entry.getArmorId().equals(armorId) && entry.getState() != ServiceState.FAILED) {
        ServiceEntry failed = setState(entry, ServiceState.FAILED, reason, context);
        tellClients(failed, Ops.SERVICE_FAILED, located(failed), context);
      }
    }
  }

  private void unregister(UnregisterService request, ElementContext context) {
    String sender = senderNode(context);
    ServiceEntry existing = sender != null ? table.get(keyOf(request.getService(), sender))
        : servedAnywhere(request.getService(), request.getArmorId());
    if (existing == null) {
      context.fail("service address " + request.getService() + " is not registered");
      return;
    }
    if (!existing.getArmorId().equals(request.getArmorId())) {
      context.fail("service address " + request.getService() + " is served by ARMOR " + existing.getArmorId()
          + ", not by " + request.getArmorId());
      return;
    }
    if (sender != null && !sender.equals(existing.getNode())) {
      context.fail("node " + sender + "'s daemon may not unregister " + request.getService() + ", which node "
          + existing.getNode() + " serves");
      return;
    }
    remove(existing, request.getReason(), context);
  }

  private void remove(ServiceEntry existing, String reason, ElementContext context) {
    drop(existing);
    context.log().info("APP_SERVER_DB: {} unregistered: {}", existing.getService(), reason);
    ServiceEntry gone = existing.toBuilder().setState(ServiceState.FAILED).setReason(reason).build();
    tellClients(gone, Ops.SERVICE_FAILED, ServiceLocation.newBuilder().setFound(false).setEntry(gone).build(), context);
  }

  /**
   * The location reply for {@code service} as {@code node} sees it (its own localhost; null: no node's localhost);
   * {@code found} is false when nobody serves it.
   */
  public ServiceLocation locate(String service, String node) {
    return located(table.get(keyOf(service, node == null ? "" : node)));
  }

  /**
   * The location reply for the row {@code entry} (the table's current one; its clients are told with it); null: nobody
   * serves it.
   */
  private ServiceLocation located(ServiceEntry entry) {
    if (entry == null) {
      return ServiceLocation.newBuilder().setFound(false).build();
    }
    ServiceLocation.Builder location = ServiceLocation.newBuilder().setFound(true).setEntry(entry);
    nodes.dataAddress(entry.getNode()).ifPresent(address ->
        location.setDataHost(hostOf(address)).setDataPort(address.getPort()));
    return location.build();
  }

  /**
   * The address's IP if it was resolved, else its host as given: a directory that must not block on DNS hands out
   * unresolved addresses, and the daemon that connects resolves them.
   */
  private static String hostOf(java.net.InetSocketAddress address) {
    return address.isUnresolved() ? address.getHostString() : address.getAddress().getHostAddress();
  }

  private void interest(ClientInterest interest) {
    ServiceEntry entry = table.get(keyOf(interest.getService(), interest.getNode()));
    if (entry == null || entry.getClientNodesList().contains(interest.getNode())) {
      return;
    }
    put(entry.toBuilder().addClientNodes(interest.getNode()).build());
  }

  private void processEvent(ProcessEvent event, ElementContext context) {
    for (ServiceEntry entry : List.copyOf(table.values())) {
      if (!entry.getArmorId().equals(event.getArmorId())) {
        continue;
      }
      switch (event.getKind()) {
        case EXITED -> {
          if (entry.getState() == ServiceState.UP && (entry.getPid() == event.getPid() || event.getPid() == 0)) {
            ServiceEntry recovering = setState(entry, ServiceState.RECOVERING, event.getDetail(), context);
            tellClients(recovering, Ops.SERVICE_RECOVERING, located(recovering), context);
          }
        }
        case GAVE_UP -> {
          ServiceEntry failed = setState(entry, ServiceState.FAILED, event.getDetail(), context);
          tellClients(failed, Ops.SERVICE_FAILED, located(failed), context);
        }
        case STOPPED -> {
          if (entry.getPid() == event.getPid() || event.getPid() == 0) {
            remove(entry, event.getDetail(), context);
          }
        }
        default -> { }
      }
    }
  }

  private ServiceEntry setState(ServiceEntry entry, ServiceState state, String reason, ElementContext context) {
    ServiceEntry updated =
        entry.toBuilder().setState(state).setReason(reason).setChangedAtMillis(context.currentTimeMillis()).build();
    put(updated);
    context.log().info("APP_SERVER_DB: {} is {}: {}", entry.getService(), state, reason);
    return updated;
  }

  private void tellClients(ServiceEntry entry, String type, ServiceLocation location, ElementContext context) {
    for (String node : entry.getClientNodesList()) {
      context.send(ArmorIds.daemon(node), type, location);
    }
  }

  private void put(ServiceEntry entry) {
    table.put(keyOf(entry), entry);
    store.put(entry);
  }

  /** Takes the row out of the table and its replica, telling nobody. */
  private void drop(ServiceEntry entry) {
    table.remove(keyOf(entry));
    store.remove(keyOf(entry));
  }

  /** The row of {@code service} that {@code armorId} serves, wherever (for a sender that is no daemon). */
  private ServiceEntry servedAnywhere(String service, String armorId) {
    ServiceEntry unscoped = table.get(service);
    if (unscoped != null) {
      return unscoped;
    }
    return table.values().stream().filter(e -> e.getService().equals(service) && e.getArmorId().equals(armorId))
        .findFirst().orElse(null);
  }

  /**
   * The table's key for {@code service} served on {@code node}: the address, except for localhost (127.0.0.1, ::1),
   * which every host has its own of: without Armor, a server bound to 127.0.0.1:7000 on one host leaves that address
   * free on every other, and answers only its own host's clients (issue 14: "loopback binds are per node"). Such a row
   * is the node's: {@code 127.0.0.1:7000@n1}. The rest of 127.0.0.0/8 is not scoped: nodes that share one machine take
   * their own addresses there, and those are reached from every node.
   */
  public static String keyOf(String service, String node) {
    return isLocalhost(service) ? service + "@" + node : service;
  }

  /** {@link #keyOf(String, String)} of a row. */
  public static String keyOf(ServiceEntry entry) {
    return keyOf(entry.getService(), entry.getNode());
  }

  private static boolean isLocalhost(String service) {
    int colon = service.lastIndexOf(':');
    String host = colon <= 0 ? service : service.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host.equals("127.0.0.1") || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1");
  }

  private static void validateService(String service) {
    int colon = service.lastIndexOf(':');
    if (colon <= 0) {
      throw new Ops.MalformedMessageException("service address must be IP:PORT, but was '" + service + "'");
    }
    try {
      int port = Integer.parseInt(service.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new Ops.MalformedMessageException("service port must be in 1..65535, but was " + port);
      }
    } catch (NumberFormatException e) {
      throw new Ops.MalformedMessageException("service address port is not a number: '" + service + "'");
    }
  }

  private static String describe(ServiceState state) {
    return switch (state) {
      case UP -> "and it is up";
      case RECOVERING -> "which is restarting it";
      default -> "(" + state + ")";
    };
  }
}
