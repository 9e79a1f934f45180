package dev.armor.ftm;

import com.google.protobuf.Empty;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.control.AgentOptionsReply;
import dev.armor.elements.control.AgentOptionsRequest;
import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.DaemonRegistered;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.DaemonReport;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ServiceEntry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * The FTM's own element: the daemon registry, launching commands under protection on a node, the event log
 * and the cluster status.
 */
final class FtmElement implements Element {

  static final String NAME = "FTM";
  private static final int EVENT_LOG_SIZE = 500;
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(2);

  private final FtmDirectory directory;
  private final ReplicatedTables tables;
  private final AppServerDb appServerDb;
  private final Predicate<String> nodeReachable;
  private final String ftmNode;
  private final ArrayDeque<ProcessEvent> events = new ArrayDeque<>();

  FtmElement(FtmDirectory directory, ReplicatedTables tables, AppServerDb appServerDb,
      Predicate<String> nodeReachable, String ftmNode) {
    this.directory = directory;
    this.tables = tables;
    this.appServerDb = appServerDb;
    this.nodeReachable = nodeReachable;
    this.ftmNode = ftmNode;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.REGISTER_DAEMON, Ops.LAUNCH, Ops.STATUS, Ops.AGENT_OPTIONS, Ops.PROCESS_EVENT);
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.REGISTER_DAEMON -> registerDaemon(Ops.argument(operation, DaemonRegistration.class), context);
      case Ops.LAUNCH -> launch(Ops.argument(operation, LaunchRequest.class), context);
      case Ops.STATUS -> status(context);
      case Ops.AGENT_OPTIONS -> agentOptions(Ops.argument(operation, AgentOptionsRequest.class), context);
      case Ops.PROCESS_EVENT -> processEvent(Ops.argument(operation, ProcessEvent.class), context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  private void registerDaemon(DaemonRegistration daemon, ElementContext context) {
    directory.addDaemon(daemon);
    tables.putDaemon(daemon);
    context.log().info("FTM: daemon of node {} registered (pid {}, address {}, data plane {}:{})",
        daemon.getNode(), daemon.getPid(), daemon.getHost(), daemon.getDataHost(), daemon.getDataPort());
    context.setPayload(DaemonRegistered.newBuilder().addAllServices(appServerDb.entries()).build());
  }

  private void launch(LaunchRequest request, ElementContext context) {
    if (directory.daemon(request.getNode()).isEmpty()) {
      context.fail("no daemon is registered for node '" + request.getNode() + "'; known nodes: "
          + directory.daemons().keySet());
      return;
    }
    if (request.getCommandCount() == 0) {
      context.fail("nothing to launch: the command is empty");
      return;
    }
    String armorId;
    do {
      armorId = ArmorIds.execution(request.getNode(), Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36));
    } while (directory.knowsArmor(armorId));
    directory.placeArmor(armorId, request.getNode());
    LaunchProcess.Builder launch =
        LaunchProcess.newBuilder()
            .setArmorId(armorId)
            .setNode(request.getNode())
            .addAllCommand(request.getCommandList())
            .putAllEnvironment(request.getEnvironmentMap())
            .setWorkingDirectory(request.getWorkingDirectory())
            .setRecovery(request.getRecovery())
            .setHangTimeoutMillis(request.getHangTimeoutMillis());
    if (request.hasPolicy()) {
      launch.setPolicy(request.getPolicy());
    }
    context.log().info("FTM: installing Execution ARMOR {} on node {} for: {}", armorId, request.getNode(),
        String.join(" ", request.getCommandList()));
    context.forward(ArmorIds.daemon(request.getNode()), Ops.INSTALL_EXECUTION_ARMOR, launch.build());
  }

  private void agentOptions(AgentOptionsRequest request, ElementContext context) {
    DaemonRegistration daemon = directory.daemon(request.getNode()).orElse(null);
    if (daemon == null) {
      context.fail("no daemon is registered for node '" + request.getNode() + "'; known nodes: "
          + directory.daemons().keySet());
      return;
    }
    context.setPayload(
        AgentOptionsReply.newBuilder().setNode(daemon.getNode()).setShimSocket(daemon.getShimSocket()).build());
  }

  private void processEvent(ProcessEvent event, ElementContext context) {
    directory.placeArmor(event.getArmorId(), event.getNode());
    events.addFirst(event);
    while (events.size() > EVENT_LOG_SIZE) {
      events.removeLast();
    }
    context.log().info("FTM: {} on node {}: {} (pid {}): {}", event.getArmorId(), event.getNode(), event.getKind(),
        event.getPid(), event.getDetail());
  }

  /** Asks every daemon for its processes and connections, and answers when all replied or timed out. */
  private void status(ElementContext context) {
    ReplyHandle reply = context.deferReply();
    List<ServiceEntry> services = appServerDb.entries();
    List<ProcessEvent> recent = new ArrayList<>(events).subList(0, Math.min(events.size(), 100));
    Map<String, CompletableFuture<DaemonReport>> reports = new LinkedHashMap<>();
    Map<String, NodeStatus.Builder> nodes = new LinkedHashMap<>();
    for (DaemonRegistration daemon : directory.daemons().values()) {
      nodes.put(daemon.getNode(),
          NodeStatus.newBuilder()
              .setNode(daemon.getNode())
              .setHost(daemon.getHost())
              .setArmorId(daemon.getArmorId())
              .setDataAddress(daemon.getDataHost() + ":" + daemon.getDataPort())
              .setShimSocket(daemon.getShimSocket())
              .setPid(daemon.getPid())
              .setReachable(nodeReachable.test(daemon.getHost())));
      reports.put(daemon.getNode(),
          context.ask(daemon.getArmorId(), Ops.DAEMON_REPORT, Empty.getDefaultInstance(), REPORT_TIMEOUT)
              .thenApply((ArmorMessage m) -> Ops.unpack(m.getPayload(), DaemonReport.class))
              .toCompletableFuture()
              .exceptionally(e -> null));
    }
    CompletableFuture.allOf(reports.values().toArray(CompletableFuture[]::new))
        .thenRun(
            () -> {
              ClusterStatus.Builder status =
                  ClusterStatus.newBuilder().setFtmNode(ftmNode).addAllServices(services).addAllEvents(recent);
              nodes.forEach(
                  (node, builder) -> {
                    DaemonReport report = reports.get(node).join();
                    if (report == null) {
                      builder.setReachable(false);
                    } else {
                      builder.addAllProcesses(report.getProcessesList()).addAllConnections(report.getConnectionsList());
                    }
                    status.addNodes(builder);
                  });
              reply.complete(status.build());
            });
  }
}
