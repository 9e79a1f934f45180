package dev.armor.daemon;

import com.google.protobuf.Empty;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.wire.ConnectionStatus;
import dev.armor.elements.wire.DaemonReport;
import dev.armor.elements.wire.FtmPing;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.RegisterService;
import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.Relay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The daemon's own element: installs Execution ARMORs on this node and reports what the node runs. */
final class DaemonElement implements Element {

  static final String NAME = "DAEMON";

  private final String node;
  private final Consumer<LaunchProcess> installer;
  private final Supplier<Set<String>> installed;
  private final Relay relay;
  private final java.util.Map<String, LaunchProcess> launches;
  private final java.util.Collection<ConnectionInfo> divergences;
  private final java.util.Map<String, List<String>> migratedServices;
  private final Consumer<String> ftmChannel;
  private final Supplier<List<RegisterService>> services;

  /**
   * @param installer installs the Execution ARMOR the launch names (in the daemon or as a process) and makes it
   *     routable; the launch is kept for a reinstall
   * @param installed the ids of the ARMORs installed here
   * @param launches where the launch each Execution ARMOR was installed with is recorded, for the registration of the
   *     services its process binds (their recovery policy and protocol)
   * @param divergences the last connections reset because a replayed server's output diverged, for status
   */
  DaemonElement(String node, Consumer<LaunchProcess> installer, Supplier<Set<String>> installed, Relay relay,
      java.util.Map<String, LaunchProcess> launches,
      java.util.Collection<ConnectionInfo> divergences) {
    this(node, installer, installed, relay, launches, divergences, new java.util.concurrent.ConcurrentHashMap<>());
  }

  /**
   * @param migratedServices where the services a migrated Execution ARMOR took over are recorded (see
   *     {@link LaunchProcess#getServicesList()}), for the shim endpoint to keep their addresses
   */
  DaemonElement(String node, Consumer<LaunchProcess> installer, Supplier<Set<String>> installed, Relay relay,
      java.util.Map<String, LaunchProcess> launches,
      java.util.Collection<ConnectionInfo> divergences, java.util.Map<String, List<String>> migratedServices) {
    this(node, installer, installed, relay, launches, divergences, migratedServices, address -> { }, List::of);
  }

  /**
   * @param ftmChannel told where the FTM's channel is, at each of the FTM's heartbeats (it follows the FTM)
   * @param services the registrations of the services this node's apps serve (APP_COMM_SERVER's), for the report
   */
  DaemonElement(String node, Consumer<LaunchProcess> installer, Supplier<Set<String>> installed, Relay relay,
      java.util.Map<String, LaunchProcess> launches,
      java.util.Collection<ConnectionInfo> divergences, java.util.Map<String, List<String>> migratedServices,
      Consumer<String> ftmChannel, Supplier<List<RegisterService>> services) {
    this.services = services;
    this.ftmChannel = ftmChannel;
    this.migratedServices = migratedServices;
    this.launches = launches;
    this.divergences = divergences;
    this.node = node;
    this.installer = installer;
    this.installed = installed;
    this.relay = relay;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.INSTALL_EXECUTION_ARMOR, Ops.DAEMON_REPORT, Ops.DAEMON_HEARTBEAT);
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.INSTALL_EXECUTION_ARMOR -> install(Ops.argument(operation, LaunchProcess.class), context);
      case Ops.DAEMON_REPORT -> report(context);
      case Ops.DAEMON_HEARTBEAT -> heartbeat(operation, context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  /** Answering is the heartbeat; the ping says where the FTM's channel is (an FTM of an earlier version sends none). */
  private void heartbeat(Operation operation, ElementContext context) {
    if (operation.getArgument().is(FtmPing.class)) {
      ftmChannel.accept(Ops.argument(operation, FtmPing.class).getFtmChannel());
    }
    context.setPayload(Empty.getDefaultInstance());
  }

  private void install(LaunchProcess launch, ElementContext context) {
    if (installed.get().contains(launch.getArmorId())) {
      context.fail("ARMOR " + launch.getArmorId() + " is already installed on node " + node);
      return;
    }
    launches.put(launch.getArmorId(), launch);
    if (launch.getServicesCount() > 0) {
      migratedServices.put(launch.getArmorId(), List.copyOf(launch.getServicesList()));
    }
    installer.accept(launch);
    if (launch.getReplacesArmorId().isEmpty()) {
      context.log().info("daemon {}: installed Execution ARMOR {}", node, launch.getArmorId());
    } else {
      context.log().info("daemon {}: installed Execution ARMOR {}, which takes over the work of {} (services {})", node,
          launch.getArmorId(), launch.getReplacesArmorId(), launch.getServicesList());
    }
    // The Execution ARMOR launches the process and answers the original requester itself.
    context.forward(launch.getArmorId(), Ops.LAUNCH_PROCESS, launch);
  }

  private void report(ElementContext context) {
    ReplyHandle reply = context.deferReply();
    List<CompletableFuture<ProcessInfo>> processes = new ArrayList<>();
    for (String armorId : installed.get()) {
      processes.add(
          context.ask(armorId, Ops.DESCRIBE_PROCESS, Empty.getDefaultInstance(), Duration.ofSeconds(1))
              .thenApply(m -> Ops.unpack(m.getPayload(), ProcessInfo.class))
              .toCompletableFuture()
              .exceptionally(e -> ProcessInfo.newBuilder().setArmorId(armorId).setNode(node).setState("UNRESPONSIVE").build()));
    }
    List<RegisterService> served = services.get(); // now, on the ARMOR's thread, not when the processes answered
    List<ConnectionStatus> connections = new ArrayList<>(relay.connections().stream().map(this::toStatus).toList());
    for (ConnectionInfo diverged : divergences) {
      connections.add(toStatus(diverged).toBuilder()
          .setState("ENDED: the restarted server diverged at byte " + diverged.divergedAtOffset()).build());
    }
    CompletableFuture.allOf(processes.toArray(CompletableFuture[]::new))
        .thenRun(() -> reply.complete(
            DaemonReport.newBuilder()
                .addAllProcesses(processes.stream().map(CompletableFuture::join).toList())
                .addAllConnections(connections)
                .addAllServices(served)
                .build()));
  }

  private ConnectionStatus toStatus(ConnectionInfo info) {
    return ConnectionStatus.newBuilder()
        .setId(info.id())
        .setService(info.service().toString())
        .setClient(info.client() == null ? "" : info.client().getAddress().getHostAddress() + ":" + info.client().getPort())
        .setSide(info.side().name())
        .setState(info.state().name())
        .setBytesToServer(info.bytesToServer())
        .setBytesToClient(info.bytesToClient())
        .setReattachments(info.reattachments())
        .setNode(node)
        .build();
  }
}
