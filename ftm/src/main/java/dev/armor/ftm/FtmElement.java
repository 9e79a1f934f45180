package dev.armor.ftm;

import com.google.protobuf.Empty;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.control.AgentOptionsReply;
import dev.armor.elements.control.AgentOptionsRequest;
import dev.armor.elements.control.ArmorStopping;
import dev.armor.elements.control.DrainRequest;
import dev.armor.elements.control.MoveRequest;
import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.control.StopArmorRequest;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.RestartAnswer;
import dev.armor.elements.wire.RestartPermission;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ClusterMember;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.DaemonRegistered;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.DaemonReport;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.ExecutionArmorState;
import dev.armor.elements.wire.FtmPing;
import dev.armor.elements.wire.HeartbeatAnswer;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.MemberChange;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ReassignServices;
import dev.armor.elements.wire.ReconcileReport;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.ServiceEntry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The FTM's own element: the daemon registry, launching commands under protection on a node, the Execution ARMOR
 * table, node loss and migration, heartbeats to the daemons, the event log and the cluster status.
 *
 * <p>Design note (node loss). Cluster membership decides that a node is gone: the split brain resolver downs a
 * member that stayed unreachable, and the FTM acts when the member is <em>removed</em>, when it cannot come back.
 * Heartbeats only inform (a slow node is not a dead one). The work of a lost node's ACTIVE Execution ARMORs moves
 * to live daemons under new ARMOR ids: the replicated table is written first (new row ACTIVE, old row REPLACED),
 * then APP_SERVER_DB's rows move to the new ARMOR (RECOVERING, clients hold), then the new ARMOR is installed. A new
 * FTM (failover) reconciles: daemons that are no longer members are lost nodes, REPLACED rows whose services did
 * not move yet are moved, and ACTIVE rows a live daemon does not report are installed again (a daemon refuses a
 * second install of the same ARMOR id, so a server never runs twice).
 */
final class FtmElement implements Element {

  static final String NAME = "FTM";
  private static final int EVENT_LOG_SIZE = 500;
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(2);

  private static final Duration INSTALL_TIMEOUT = Duration.ofSeconds(30);
  private static final String HEARTBEAT_TIMER = "heartbeat";
  static final String NO_LIVE_NODE = "no live node to move it to";
  /** The cause of a planned move's migration, in its rows and log lines. */
  private static final String PLANNED = "planned move by the operator";

  /** Where the FTM's table writes go (the replicated tables; a fake in tests). */
  interface Tables {
    void putDaemon(DaemonRegistration daemon);

    void removeDaemon(String node);

    /** Completes with true once a majority of nodes has the row, false if that did not happen in time. */
    CompletionStage<Boolean> putExecution(ExecutionArmorRow row);

    /**
     * Completes with true once a majority of nodes acknowledged a write from this FTM, false if that did not happen
     * in time (this FTM's node was downed and quarantined while it was paused, or the cluster has no majority).
     */
    CompletionStage<Boolean> confirmOnMajority();

    /** Writes now what is kept for a later write (APP_SERVER_DB rows are written behind): this FTM is stopping. */
    default void writePending() {}
  }

  /** A fenced app's restart asked for, waiting for the majority's acknowledgement before it is granted. */
  private record ConfirmingRestart(RestartPermission request, ReplyHandle reply, long askedNanos) {}

  /** A migration under way: for its log line with the timings (detected, installed, service up). */
  private record Migration(String fromArmorId, String fromNode, String toNode, long detectedNanos, long[] installedNanos) {}

  private final FtmDirectory directory;
  private final Tables tables;
  private final AppServerDb appServerDb;
  private final Membership membership;
  private final String ftmNode;
  private final Duration heartbeatInterval;
  private final FtmPing ping;
  private final ArrayDeque<ProcessEvent> events = new ArrayDeque<>();
  private final Map<String, ExecutionArmorRow> executions = new TreeMap<>();
  /** By ARMOR id and pid. */
  private final Map<String, ConfirmingRestart> confirmingRestarts = new HashMap<>();
  private final Map<String, Long> unreachableSinceMillis = new HashMap<>();
  private final Map<String, Migration> migrations = new HashMap<>();
  private final PlannedMoves plannedMoves = new PlannedMoves();
  /** ARMOR ids this FTM is installing (table write or install request under way): not to be installed twice. */
  private final Set<String> installing = new HashSet<>();
  private final HeartbeatMonitor heartbeats = new HeartbeatMonitor();
  private final MemberCertificates certificates;

  /**
   * The node name a cluster member proved with its certificate ({@link ClusterPeers}); {@link #UNCHECKED} where the
   * cluster transport runs without TLS (tests), and nothing is proved.
   */
  @FunctionalInterface
  interface MemberCertificates {
    MemberCertificates UNCHECKED = address -> Optional.empty();

    /** The node name proved at {@code memberAddress}, and when (wall clock), by the latest process seen there. */
    Optional<Proof> nodeAt(String memberAddress);

    record Proof(String node, long atMillis) {}
  }

  /**
   * The cluster's members as this FTM's node sees them: whether one is live (the decisions need that) and, for the
   * status, the whole list and whether the membership has converged. Tests give only the first.
   */
  @FunctionalInterface
  interface Membership {
    /** Whether the cluster member at {@code host:port} is up and reachable. */
    boolean live(String memberAddress);

    default List<ClusterMember> members() {
      return List.of();
    }

    default boolean converged() {
      return true;
    }
  }

  /**
   * @param executions the Execution ARMOR table as read back from the replicated tables
   * @param membership the cluster's members: whether the one at {@code host:port} is up and reachable, and the rest
   * @param heartbeatInterval how often each daemon is pinged (zero: never)
   */
  FtmElement(FtmDirectory directory, Tables tables, AppServerDb appServerDb, Collection<ExecutionArmorRow> executions,
      Membership membership, String ftmNode, Duration heartbeatInterval) {
    this(directory, tables, appServerDb, executions, membership, ftmNode, heartbeatInterval, "",
        MemberCertificates.UNCHECKED);
  }

  /**
   * @param channel host:port of this node's FTM channel, told to the daemons (empty: none)
   * @param certificates the node name each member proved: a daemon registers only under its own
   */
  FtmElement(FtmDirectory directory, Tables tables, AppServerDb appServerDb, Collection<ExecutionArmorRow> executions,
      Membership membership, String ftmNode, Duration heartbeatInterval, String channel,
      MemberCertificates certificates) {
    this.certificates = certificates;
    this.ping = FtmPing.newBuilder().setFtmChannel(channel).build();
    this.directory = directory;
    this.tables = tables;
    this.appServerDb = appServerDb;
    this.membership = membership;
    this.ftmNode = ftmNode;
    this.heartbeatInterval = heartbeatInterval;
    executions.forEach(row -> this.executions.put(row.getArmorId(), row));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.REGISTER_DAEMON, Ops.LAUNCH, Ops.STATUS, Ops.STOP_ARMOR, Ops.AGENT_OPTIONS, Ops.PROCESS_EVENT,
        Ops.MEMBER_CHANGE, Ops.HEARTBEAT_TICK, Ops.HEARTBEAT_ANSWERED, Ops.RECONCILE_REPORT, Ops.MIGRATION_INSTALLED,
        Ops.REGISTER_SERVICE, Ops.MIGRATION_WRITTEN, Ops.MAY_RESTART, Ops.RESTART_CONFIRMED, Ops.MOVE_ARMOR,
        Ops.DRAIN_NODE, Ops.UNDRAIN_NODE, Ops.MOVE_OLD_STOPPED);
  }

  @Override
  public void started(ElementContext context) {
    long now = context.nanoTime();
    directory.daemons().keySet().forEach(node -> heartbeats.registered(node, now));
    if (!heartbeatInterval.isZero()) {
      context.scheduleToSelf(HEARTBEAT_TIMER, heartbeatInterval, Ops.HEARTBEAT_TICK, Empty.getDefaultInstance());
    }
  }

  @Override
  public void stopped() {
    // The singleton moves (or the node leaves): the next FTM reads the tables, so nothing may stay unwritten.
    tables.writePending();
  }

  /** The Execution ARMOR table, for tests and status. */
  Map<String, ExecutionArmorRow> executions() {
    return executions;
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.REGISTER_DAEMON -> registerDaemon(Ops.argument(operation, DaemonRegistration.class), context);
      case Ops.LAUNCH -> launch(Ops.argument(operation, LaunchRequest.class), context);
      case Ops.STATUS -> status(Ops.argument(operation, StatusRequest.class), context);
      case Ops.STOP_ARMOR -> stopArmor(Ops.argument(operation, StopArmorRequest.class), context);
      case Ops.AGENT_OPTIONS -> agentOptions(Ops.argument(operation, AgentOptionsRequest.class), context);
      case Ops.PROCESS_EVENT -> processEvent(Ops.argument(operation, ProcessEvent.class), context);
      case Ops.MAY_RESTART -> mayRestart(Ops.argument(operation, RestartPermission.class), context);
      case Ops.RESTART_CONFIRMED -> restartConfirmed(Ops.argument(operation, RestartAnswer.class), context);
      case Ops.MEMBER_CHANGE -> memberChange(Ops.argument(operation, MemberChange.class), context);
      case Ops.HEARTBEAT_TICK -> heartbeat(context);
      case Ops.HEARTBEAT_ANSWERED -> heartbeatAnswered(Ops.argument(operation, HeartbeatAnswer.class), context);
      case Ops.RECONCILE_REPORT -> reconcileReport(Ops.argument(operation, ReconcileReport.class), context);
      case Ops.MIGRATION_INSTALLED -> installed(Ops.argument(operation, ProcessEvent.class), context);
      case Ops.MIGRATION_WRITTEN -> install(Ops.argument(operation, LaunchProcess.class), context);
      case Ops.REGISTER_SERVICE -> serviceRegistered(Ops.argument(operation, RegisterService.class), context);
      case Ops.MOVE_ARMOR -> moveArmor(Ops.argument(operation, MoveRequest.class), context);
      case Ops.DRAIN_NODE -> drainNode(Ops.argument(operation, DrainRequest.class), context);
      case Ops.UNDRAIN_NODE -> undrainNode(Ops.argument(operation, DrainRequest.class), context);
      case Ops.MOVE_OLD_STOPPED -> oldStopAsked(Ops.argument(operation, ProcessEvent.class), context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  private void registerDaemon(DaemonRegistration daemon, ElementContext context) {
    String from = directory.memberAddressOf(daemon);
    if (certificates != MemberCertificates.UNCHECKED && !from.equals(directory.selfAddress())) {
      Optional<MemberCertificates.Proof> certified = certificates.nodeAt(from);
      // Learnt when this node connects to the member: the answer to this request does, so the daemon's next attempt
      // finds it (its own node's daemon is in this process, under this node's certificate). A proof older than the
      // daemon may be its address's previous process's, another node's: asked again, the answer connects to this one.
      if (certified.isEmpty()
          || (!certified.get().node().equals(daemon.getNode())
              && certified.get().atMillis() < daemon.getStartedAtMillis())) {
        // an answer, not a failure: a daemon's first attempt often gets it (no warning for it in the log)
        context.setPayload(DaemonRegistered.newBuilder()
            .setAskAgain("the FTM has not yet seen the certificate of cluster member " + from).build());
        return;
      }
      if (!certified.get().node().equals(daemon.getNode())) {
        String why = "cluster member " + from + " showed the certificate of node " + certified.get().node()
            + ", not of node " + daemon.getNode() + ": a daemon joins only under the name on its certificate";
        context.log().warn("FTM: refused the registration of a daemon as node {} (pid {}): {}", daemon.getNode(),
            daemon.getPid(), why);
        context.fail(Ops.REGISTRATION_REFUSED + why);
        return;
      }
    }
    Optional<DaemonRegistration> previous = directory.daemon(daemon.getNode());
    if (previous.isPresent() && previous.get().getClusterUid() != daemon.getClusterUid()) {
      String heldAt = directory.memberAddress(daemon.getNode()).orElse("");
      if (!heldAt.equals(from) && membership.live(heldAt)) {
        // Another member under a live daemon's name: an impostor, or the same node started twice. Taking it for a
        // restart would move the live node's work to it while the node runs on: two instances of every service.
        String why = "node " + daemon.getNode() + " is held by a live cluster member at " + heldAt + " (its daemon,"
            + " pid " + previous.get().getPid() + ", registered from " + previous.get().getHost() + "); a second daemon"
            + " cannot join under that name while it lives";
        context.log().warn("FTM: refused the registration of a daemon as node {} from cluster member {} (pid {}): {}",
            daemon.getNode(), from, daemon.getPid(), why);
        context.fail(Ops.REGISTRATION_REFUSED + why);
        return;
      }
      // A daemon restarted on the node: its previous incarnation (and every ARMOR it hosted) is gone, whether or not
      // the cluster has removed its member yet. Its work moves now; a removal of the old member later is ignored.
      nodeDown(daemon.getNode(), "its daemon restarted (pid " + previous.get().getPid() + " -> pid " + daemon.getPid()
          + "): the previous incarnation's ARMORs are gone", context);
    }
    boolean restarted = previous.isEmpty() || previous.get().getPid() != daemon.getPid()
        || previous.get().getClusterUid() != daemon.getClusterUid();
    if (restarted && plannedMoves.undrain(daemon.getNode())) {
      context.log().info("FTM: node {} was drained; its daemon started again (pid {}): it takes work again",
          daemon.getNode(), daemon.getPid());
    }
    directory.addDaemon(daemon);
    tables.putDaemon(daemon);
    heartbeats.registered(daemon.getNode(), context.nanoTime());
    context.log().info("FTM: daemon of node {} registered (pid {}, address {}, data plane {}:{})",
        daemon.getNode(), daemon.getPid(), daemon.getHost(), daemon.getDataHost(), daemon.getDataPort());
    context.setPayload(DaemonRegistered.newBuilder().addAllServices(appServerDb.entries())
        .setFtmChannel(ping.getFtmChannel()).build());
    placePending(context);
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
    long heartbeatMillis = directory.daemon(request.getNode()).orElseThrow().getHeartbeatMillis();
    if (request.getHangTimeoutMillis() > 0 && heartbeatMillis > 0) { // 0: a daemon of an earlier version: unknown
      Optional<String> tooShort = dev.armor.elements.HangTimeout.tooShort("--hang-timeout",
          Duration.ofMillis(request.getHangTimeoutMillis()), Duration.ofMillis(heartbeatMillis));
      if (tooShort.isPresent()) {
        context.fail(tooShort.get() + " on node " + request.getNode() + ": its app would be declared hung between two"
            + " beats and killed on every start");
        return;
      }
    }
    Optional<String> badProgressTimeout = dev.armor.elements.ProgressTimeout.invalid("--progress-timeout",
        Duration.ofMillis(request.getProgressTimeoutMillis()));
    if (badProgressTimeout.isPresent()) {
      context.fail(badProgressTimeout.get());
      return;
    }
    String armorId = newArmorId(request.getNode());
    directory.placeArmor(armorId, request.getNode());
    LaunchProcess.Builder launch =
        LaunchProcess.newBuilder()
            .setArmorId(armorId)
            .setNode(request.getNode())
            .addAllCommand(request.getCommandList())
            .putAllEnvironment(request.getEnvironmentMap())
            .setWorkingDirectory(request.getWorkingDirectory())
            .setRecovery(request.getRecovery())
            .setProtocol(request.getProtocol())
            .setHangTimeoutMillis(request.getHangTimeoutMillis())
            .setProgressTimeoutMillis(request.getProgressTimeoutMillis())
            .setUser(request.getUser());
    if (request.hasPolicy()) {
      launch.setPolicy(request.getPolicy());
    }
    context.log().info("FTM: installing Execution ARMOR {} on node {} for: {}", armorId, request.getNode(),
        String.join(" ", request.getCommandList()));
    putRow(ExecutionArmorRow.newBuilder().setArmorId(armorId).setNode(request.getNode()).setLaunch(launch)
        .setState(ExecutionArmorState.ACTIVE).setReason("launched").setChangedAtMillis(context.currentTimeMillis()).build());
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
        AgentOptionsReply.newBuilder().setNode(daemon.getNode()).setShimSocket(daemon.getShimSocket())
            .setHost(daemon.getHost()).build());
  }

  /** An ARMOR id no ARMOR had: {@code exec-NODE-SUFFIX}. */
  private String newArmorId(String node) {
    String armorId;
    do {
      armorId = ArmorIds.execution(node, Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36));
    } while (directory.knowsArmor(armorId) || executions.containsKey(armorId));
    return armorId;
  }

  private void processEvent(ProcessEvent event, ElementContext context) {
    directory.placeArmor(event.getArmorId(), event.getNode());
    ExecutionArmorRow row = executions.get(event.getArmorId());
    if (row != null && row.getState() == ExecutionArmorState.ACTIVE
        && (event.getKind() == ProcessEventKind.STOPPED || event.getKind() == ProcessEventKind.GAVE_UP)) {
      transitionTo(row, ExecutionArmorState.FINISHED, "", event.getKind() + ": " + event.getDetail(), context);
    }
    record(event, context);
    moveEvent(event, context);
  }

  /**
   * An app halted itself (its shim found its daemon gone or frozen): its ARMOR restarts it only if the work is still
   * that ARMOR's, on that node. When the node was declared lost meanwhile, the work runs elsewhere (REPLACED) or waits
   * for a node (PENDING): a restart would make two instances.
   *
   * <p>A grant also needs a majority's acknowledgement: this FTM may itself have been frozen with the app's node (it
   * is a singleton on some daemon), downed and replaced by an FTM elsewhere that moved the work, and its own table
   * does not know it yet. The others quarantined a downed member, so such an FTM gets no majority and refuses.
   */
  private void mayRestart(RestartPermission request, ElementContext context) {
    String refusal = restartRefusal(request);
    String key = request.getArmorId() + "#" + request.getPid();
    if (refusal == null && confirmingRestarts.containsKey(key)) {
      refusal = "the same restart is being confirmed already";
    }
    if (refusal != null) {
      answerRestart(request, RestartAnswer.newBuilder().setReason(refusal), context.deferReply(), "", context);
      return;
    }
    confirmingRestarts.put(key, new ConfirmingRestart(request, context.deferReply(), context.nanoTime()));
    context.pipeToSelf(tables.confirmOnMajority(), (majority, failure) -> Ops.of(Ops.RESTART_CONFIRMED,
        RestartAnswer.newBuilder().setArmorId(request.getArmorId()).setPid(request.getPid())
            .setGranted(failure == null && Boolean.TRUE.equals(majority))
            .setReason(failure == null ? "no majority acknowledged its write in time" : failure.getMessage()).build()));
  }

  /** Why a fenced app may not restart, from this FTM's table; null if it may. */
  private String restartRefusal(RestartPermission request) {
    ExecutionArmorRow row = executions.get(request.getArmorId());
    if (row == null) {
      return "the FTM has no record of Execution ARMOR " + request.getArmorId();
    }
    if (row.getState() != ExecutionArmorState.ACTIVE || !row.getNode().equals(request.getNode())) {
      return "its work is no longer node " + request.getNode() + "'s: " + row.getState()
          + (row.getReplacedBy().isEmpty() ? "" : " by " + row.getReplacedBy()) + " (" + row.getReason() + ")";
    }
    return null;
  }

  private void restartConfirmed(RestartAnswer confirmation, ElementContext context) {
    ConfirmingRestart confirming = confirmingRestarts.remove(confirmation.getArmorId() + "#" + confirmation.getPid());
    if (confirming == null) {
      return;
    }
    String refusal = restartRefusal(confirming.request()); // the table may have changed meanwhile
    if (refusal == null && !confirmation.getGranted()) {
      refusal = "this FTM could not confirm on a majority of nodes that it still speaks for the cluster ("
          + confirmation.getReason() + ")";
    }
    answerRestart(confirming.request(), RestartAnswer.newBuilder().setGranted(refusal == null)
        .setReason(refusal == null ? "" : refusal), confirming.reply(),
        " (the majority answered in " + millisSince(confirming.askedNanos(), context) + " ms)", context);
  }

  private void answerRestart(RestartPermission request, RestartAnswer.Builder answer, ReplyHandle reply, String timing,
      ElementContext context) {
    context.log().info("FTM: {} on node {} asks to restart its app (pid {}), which fenced itself: {}{}",
        request.getArmorId(), request.getNode(), request.getPid(),
        answer.getGranted() ? "granted" : "refused: " + answer.getReason(), timing);
    reply.complete(answer.setArmorId(request.getArmorId()).setPid(request.getPid()).build());
  }

  private void record(ProcessEvent event, ElementContext context) {
    events.addFirst(event);
    while (events.size() > EVENT_LOG_SIZE) {
      events.removeLast();
    }
    context.log().info("FTM: {} on node {}: {} (pid {}): {}", event.getArmorId(), event.getNode(), event.getKind(),
        event.getPid(), event.getDetail());
  }

  /**
   * The one way an Execution ARMOR row changes state, logged and written to the replicated table. Legal: ACTIVE to
   * REPLACED, PENDING or FINISHED; PENDING to REPLACED (placed at last); REPLACED to ACTIVE only for the old ARMOR of a
   * planned move rolled back (its instance never stopped). Anything else is a bug and throws.
   */
  private CompletionStage<Boolean> transitionTo(ExecutionArmorRow row, ExecutionArmorState next, String replacedBy,
      String reason, ElementContext context) {
    ExecutionArmorState from = row.getState();
    boolean legal = switch (from) {
      case ACTIVE -> next == ExecutionArmorState.REPLACED || next == ExecutionArmorState.PENDING
          || next == ExecutionArmorState.FINISHED;
      case PENDING -> next == ExecutionArmorState.REPLACED;
      case REPLACED -> next == ExecutionArmorState.ACTIVE && plannedMoves.ofOldArmor(row.getArmorId()).isPresent();
      default -> false;
    };
    if (!legal) {
      throw new IllegalStateException("Execution ARMOR " + row.getArmorId() + " cannot go from " + from + " to " + next);
    }
    context.log().info("FTM: Execution ARMOR {} (node {}): {} -> {}{}: {}", row.getArmorId(), row.getNode(), from, next,
        replacedBy.isEmpty() ? "" : " by " + replacedBy, reason);
    return putRow(row.toBuilder().setState(next).setReplacedBy(replacedBy).setReason(reason)
        .setChangedAtMillis(context.currentTimeMillis()).build());
  }

  private CompletionStage<Boolean> putRow(ExecutionArmorRow row) {
    executions.put(row.getArmorId(), row);
    return tables.putExecution(row);
  }

  // ---- node loss and migration ---------------------------------------------------------------------------------

  private void memberChange(MemberChange change, ElementContext context) {
    switch (change.getKind()) {
      case UNREACHABLE -> {
        unreachableSinceMillis.put(change.getAddress(), change.getAtMillis());
        context.log().warn("FTM: cluster member {} ({}) is unreachable; its node is lost only if the cluster downs it",
            change.getAddress(), directory.nodeAt(change.getAddress()).map(n -> "node " + n).orElse("no daemon"));
      }
      case REACHABLE -> {
        Long since = unreachableSinceMillis.remove(change.getAddress());
        context.log().info("FTM: cluster member {} is reachable again{}", change.getAddress(),
            since == null ? "" : " after " + (change.getAtMillis() - since) + " ms");
      }
      case REMOVED -> memberRemoved(change, context);
      case LEASE_ENDED -> leaseEnded(change, context);
      case SNAPSHOT -> reconcile(change, context);
      default -> { }
    }
  }

  private void memberRemoved(MemberChange change, ElementContext context) {
    Long unreachableAt = unreachableSinceMillis.remove(change.getAddress());
    Optional<String> node = directory.nodeAt(change.getAddress());
    if (node.isEmpty()) {
      context.log().info("FTM: cluster member {} was removed (no registered daemon there)", change.getAddress());
      return;
    }
    DaemonRegistration daemon = directory.daemon(node.get()).orElseThrow();
    if (daemon.getClusterUid() != 0 && daemon.getClusterUid() != change.getUid()) {
      context.log().info("FTM: an old incarnation of node {}'s daemon left the cluster; the registered one (pid {}) runs on",
          node.get(), daemon.getPid());
      return;
    }
    String timings = unreachableAt == null
        ? "removed from the cluster at " + clock(change.getAtMillis()) + " (it left, or was downed before it was seen unreachable)"
        : "unreachable at " + clock(unreachableAt) + ", downed and removed at " + clock(change.getAtMillis()) + " ("
            + (change.getAtMillis() - unreachableAt) + " ms later)";
    nodeDown(node.get(), timings, context);
  }

  /**
   * A majority of the members declared the node's lease ended (docs/ARCHITECTURE.md, "Node leases"): its apps halted
   * when the lease ended and it can never hold one again, so its work moves now, seconds before the cluster downs it.
   */
  private void leaseEnded(MemberChange change, ElementContext context) {
    // By the member's uid: the lease was its incarnation's; a daemon restarted since has another.
    Optional<DaemonRegistration> daemon = directory.daemons().values().stream()
        .filter(d -> d.getClusterUid() == change.getUid()).findFirst();
    if (daemon.isEmpty()) {
      context.log().info("FTM: the node lease of cluster member {} ended (no registered daemon of that incarnation "
          + "there)", change.getAddress());
      return;
    }
    Long unreachableAt = unreachableSinceMillis.get(change.getAddress());
    nodeDown(daemon.get().getNode(), change.getDetail() + (unreachableAt == null ? "" : "; unreachable since "
        + clock(unreachableAt)), context);
  }

  /** A node is gone: its daemon is forgotten and its ACTIVE Execution ARMORs move to live nodes. */
  private void nodeDown(String node, String why, ElementContext context) {
    long detected = context.nanoTime();
    DaemonRegistration daemon = directory.daemon(node).orElse(null);
    directory.removeDaemon(node);
    tables.removeDaemon(node);
    heartbeats.forget(node);
    // A planned move to this node that did not serve yet: its old instance still runs, and keeps the work.
    for (ExecutionArmorRow row : Placement.activeOn(node, executions.values())) {
      plannedMoves.ofNewArmor(row.getArmorId()).filter(move -> !plannedMoves.stoppingOld(move))
          .ifPresent(move -> rollBack(move, "its target node " + node + " was lost", context));
    }
    List<ExecutionArmorRow> orphans = Placement.activeOn(node, executions.values());
    context.log().warn("FTM: node {} down: {}; {} Execution ARMOR(s) to move: {}", node, why, orphans.size(),
        orphans.stream().map(ExecutionArmorRow::getArmorId).toList());
    record(event(ArmorIds.daemon(node), node, ProcessEventKind.NODE_DOWN, daemon == null ? 0 : daemon.getPid(),
        "node " + node + " down: " + why, context), context);
    // Apps wrapped by hand registered under the daemon's own id: nobody can start them elsewhere.
    appServerDb.fail(ArmorIds.daemon(node), "node " + node + " down; an app wrapped by hand is not restarted elsewhere",
        context);
    migrate(orphans, detected, "node " + node + " down", context);
  }

  /** The nodes whose daemon is registered and whose member is up and reachable, and that are not being drained. */
  private List<String> liveNodes() {
    return directory.daemons().keySet().stream()
        .filter(node -> directory.memberAddress(node).map(membership::live).orElse(false))
        .filter(node -> !plannedMoves.draining(node))
        .toList();
  }

  private void migrate(List<ExecutionArmorRow> orphans, long detectedNanos, String cause, ElementContext context) {
    for (Placement.Decision decision : Placement.plan(orphans, liveNodes(), executions.values())) {
      if (decision.target().isPresent()) {
        moveTo(decision.row(), decision.target().get(), detectedNanos, cause, context);
      } else {
        pend(decision.row(), context);
      }
    }
  }

  /** Moves the work of {@code row} to a new ARMOR on {@code target}; returns the new ARMOR's id. */
  private String moveTo(ExecutionArmorRow row, String target, long detectedNanos, String cause, ElementContext context) {
    String newId = newArmorId(target);
    Set<String> services = new LinkedHashSet<>(row.getLaunch().getServicesList());
    services.addAll(appServerDb.servicesOf(row.getArmorId()));
    LaunchProcess launch = row.getLaunch().toBuilder().setArmorId(newId).setNode(target)
        .setReplacesArmorId(row.getArmorId()).clearServices().addAllServices(services).build();
    long now = context.currentTimeMillis();
    // The table first, on a majority, before the install: an FTM taking over mid-way then finds the new ARMOR (to
    // install, or to see running) and never moves the old one a second time, which would start the server twice.
    CompletionStage<Boolean> added = putRow(ExecutionArmorRow.newBuilder().setArmorId(newId).setNode(target)
        .setLaunch(launch).setState(ExecutionArmorState.ACTIVE).setReason("replaces " + row.getArmorId() + " (" + cause + ")")
        .setChangedAtMillis(now).build());
    CompletionStage<Boolean> replaced =
        transitionTo(row, ExecutionArmorState.REPLACED, newId, cause + ": moved to node " + target, context);
    directory.placeArmor(newId, target);
    appServerDb.reassign(ReassignServices.newBuilder().setFromArmorId(row.getArmorId()).setToArmorId(newId)
        .setToNode(target).setReason(cause + ": moving to node " + target).build(), context);
    // A planned move is no failure: logged as information, a node loss's migration as a warning.
    org.slf4j.event.Level level = cause.equals(PLANNED) ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.WARN;
    context.log().atLevel(level).log("FTM: migrating Execution ARMOR {} (node {}) to node {} as ARMOR {}, services {} "
        + "({})", row.getArmorId(), row.getNode(), target, newId, services, cause);
    record(event(row.getArmorId(), row.getNode(), ProcessEventKind.MIGRATING, 0,
        "moving to ARMOR " + newId + " on node " + target + " (" + cause + ")", context), context);
    migrations.put(newId, new Migration(row.getArmorId(), row.getNode(), target, detectedNanos, new long[] {0}));
    installing.add(newId);
    context.pipeToSelf(added.thenCombine(replaced, Boolean::logicalAnd), (majority, failure) -> {
      if (failure != null || !Boolean.TRUE.equals(majority)) {
        context.log().warn("FTM: the move of {} to {} is not on a majority of nodes yet ({}); installing anyway",
            row.getArmorId(), newId, failure == null ? "write timed out" : failure.getMessage());
      }
      return Ops.of(Ops.MIGRATION_WRITTEN, launch);
    });
    return newId;
  }

  private void pend(ExecutionArmorRow row, ElementContext context) {
    if (row.getState() == ExecutionArmorState.PENDING) {
      return; // still nowhere to go; its services are FAILED already
    }
    transitionTo(row, ExecutionArmorState.PENDING, "", NO_LIVE_NODE, context);
    context.log().warn("FTM: Execution ARMOR {} of node {} has no live node to move to: its services fail; it waits "
        + "for a daemon to register", row.getArmorId(), row.getNode());
    appServerDb.fail(row.getArmorId(), NO_LIVE_NODE, context);
    record(event(row.getArmorId(), row.getNode(), ProcessEventKind.MIGRATING, 0,
        NO_LIVE_NODE + "; pending until a daemon registers", context), context);
  }

  private void placePending(ElementContext context) {
    List<ExecutionArmorRow> pending = Placement.pending(executions.values());
    if (!pending.isEmpty()) {
      context.log().info("FTM: placing {} pending Execution ARMOR(s) on the live nodes", pending.size());
      migrate(pending, context.nanoTime(), "pending ARMOR placed", context);
    }
  }

  /** Installs an Execution ARMOR on its node; the outcome comes back as {@link Ops#MIGRATION_INSTALLED}. */
  private void install(LaunchProcess launch, ElementContext context) {
    context.pipeToSelf(
        context.ask(ArmorIds.daemon(launch.getNode()), Ops.INSTALL_EXECUTION_ARMOR, launch, INSTALL_TIMEOUT),
        (reply, failure) -> {
          ProcessEvent.Builder outcome = ProcessEvent.newBuilder().setArmorId(launch.getArmorId()).setNode(launch.getNode());
          if (failure != null) {
            Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
            outcome.setKind(ProcessEventKind.EXITED).setDetail(String.valueOf(cause.getMessage()));
          } else {
            outcome.setKind(ProcessEventKind.STARTED)
                .setPid(Ops.unpack(reply.getPayload(), dev.armor.elements.wire.ProcessLaunched.class).getPid());
          }
          return Ops.of(Ops.MIGRATION_INSTALLED, outcome.build());
        });
  }

  private void installed(ProcessEvent outcome, ElementContext context) {
    installing.remove(outcome.getArmorId());
    Migration migration = migrations.get(outcome.getArmorId());
    String since = migration == null ? "" : " " + millisSince(migration.detectedNanos(), context) + " ms after detection";
    if (outcome.getKind() != ProcessEventKind.STARTED) {
      context.log().warn("FTM: installing Execution ARMOR {} on node {} failed{}: {}", outcome.getArmorId(),
          outcome.getNode(), since, outcome.getDetail());
      plannedMoves.ofNewArmor(outcome.getArmorId()).ifPresent(move ->
          rollBack(move, "its install on node " + move.toNode() + " failed: " + outcome.getDetail(), context));
      return;
    }
    if (migration != null) {
      migration.installedNanos()[0] = context.nanoTime();
    }
    context.log().info("FTM: Execution ARMOR {} installed on node {} (pid {}){}", outcome.getArmorId(),
        outcome.getNode(), outcome.getPid(), since);
  }

  /** After APP_SERVER_DB accepted a registration: a migrated ARMOR's service is up, the recovery is complete. */
  private void serviceRegistered(RegisterService registration, ElementContext context) {
    plannedMoves.ofNewArmor(registration.getArmorId()).ifPresent(move -> moveServing(move, context));
    Migration migration = migrations.remove(registration.getArmorId());
    if (migration == null) {
      return;
    }
    long installed = migration.installedNanos()[0];
    context.log().info("FTM: recovery of ARMOR {} (node {}) complete: {} is up on node {} under ARMOR {} (pid {}); "
            + "detected -> installed {} ms -> service up {} ms",
        migration.fromArmorId(), migration.fromNode(), registration.getService(), registration.getNode(),
        registration.getArmorId(), registration.getPid(),
        installed == 0 ? "?" : Duration.ofNanos(installed - migration.detectedNanos()).toMillis(),
        millisSince(migration.detectedNanos(), context));
  }

  private static final java.time.format.DateTimeFormatter CLOCK =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(java.time.ZoneId.systemDefault());

  /** A wall-clock time for a log line, as the log's own timestamps show it. */
  private static String clock(long epochMillis) {
    return CLOCK.format(java.time.Instant.ofEpochMilli(epochMillis));
  }

  private static long millisSince(long startNanos, ElementContext context) {
    return Duration.ofNanos(context.nanoTime() - startNanos).toMillis();
  }

  private static ProcessEvent event(String armorId, String node, ProcessEventKind kind, long pid, String detail,
      ElementContext context) {
    return ProcessEvent.newBuilder().setArmorId(armorId).setNode(node).setKind(kind).setPid(pid)
        .setAtMillis(context.currentTimeMillis()).setDetail(detail).build();
  }

  // ---- reconciliation when an FTM starts ------------------------------------------------------------------------

  /**
   * The members present when this FTM started: a registered daemon that is not one of them is a lost node; moves
   * interrupted by a failover are finished; each live daemon is asked what it runs, to reinstall what it lacks.
   */
  private void reconcile(MemberChange snapshot, ElementContext context) {
    Set<String> members = new HashSet<>(snapshot.getMembersList());
    Set<String> addresses = new HashSet<>();
    members.forEach(m -> addresses.add(m.substring(0, m.lastIndexOf('#'))));
    context.log().info("FTM: reconciling {} daemon(s) and {} Execution ARMOR row(s) with the cluster's {} member(s)",
        directory.daemons().size(), executions.size(), members.size());
    for (DaemonRegistration daemon : List.copyOf(directory.daemons().values())) {
      String address = directory.memberAddress(daemon.getNode()).orElse("?");
      boolean present = daemon.getClusterUid() == 0
          ? addresses.contains(address) : members.contains(address + "#" + daemon.getClusterUid());
      if (!present) {
        nodeDown(daemon.getNode(), "its member " + address + " was gone when the FTM started on " + ftmNode, context);
      }
    }
    for (ExecutionArmorRow row : List.copyOf(executions.values())) {
      if (row.getState() == ExecutionArmorState.REPLACED && !appServerDb.servicesOf(row.getArmorId()).isEmpty()) {
        ExecutionArmorRow replacement = executions.get(row.getReplacedBy());
        String node = replacement == null ? row.getNode() : replacement.getNode();
        context.log().info("FTM: finishing the interrupted move of ARMOR {} to {}", row.getArmorId(), row.getReplacedBy());
        appServerDb.reassign(ReassignServices.newBuilder().setFromArmorId(row.getArmorId())
            .setToArmorId(row.getReplacedBy()).setToNode(node)
            .setReason("moving to node " + node + " (finished by the FTM on " + ftmNode + ")").build(), context);
      }
    }
    for (DaemonRegistration daemon : directory.daemons().values()) {
      String node = daemon.getNode();
      long uid = daemon.getClusterUid();
      context.pipeToSelf(
          context.ask(daemon.getArmorId(), Ops.DAEMON_REPORT, Empty.getDefaultInstance(), REPORT_TIMEOUT),
          (reply, failure) -> {
            ReconcileReport.Builder report = ReconcileReport.newBuilder().setNode(node).setClusterUid(uid);
            if (failure == null) {
              report.setAnswered(true).setReport(Ops.unpack(reply.getPayload(), DaemonReport.class));
            }
            return Ops.of(Ops.RECONCILE_REPORT, report.build());
          });
    }
    placePending(context);
  }

  private void reconcileReport(ReconcileReport report, ElementContext context) {
    Optional<DaemonRegistration> daemon = directory.daemon(report.getNode());
    if (daemon.isEmpty() || daemon.get().getClusterUid() != report.getClusterUid()) {
      return; // the node went down or its daemon restarted since: handled there
    }
    if (!report.getAnswered()) {
      context.log().warn("FTM: the daemon of node {} did not report what it runs; its ARMORs are checked when it "
          + "registers again or its node is lost", report.getNode());
      return;
    }
    Set<String> running = new HashSet<>();
    for (ProcessInfo process : report.getReport().getProcessesList()) {
      running.add(process.getArmorId());
    }
    for (ExecutionArmorRow row : Placement.activeOn(report.getNode(), executions.values())) {
      if (!running.contains(row.getArmorId()) && installing.add(row.getArmorId())) {
        context.log().warn("FTM: Execution ARMOR {} should run on node {}, which does not report it: installing it",
            row.getArmorId(), report.getNode());
        if (!row.getLaunch().getReplacesArmorId().isEmpty()) {
          migrations.putIfAbsent(row.getArmorId(), new Migration(row.getLaunch().getReplacesArmorId(), "?",
              row.getNode(), context.nanoTime(), new long[] {0}));
        }
        install(row.getLaunch(), context);
      }
    }
    for (RegisterService service : report.getReport().getServicesList()) {
      appServerDb.restore(service, report.getNode(), context);
    }
  }

  // ---- planned moves (armor move, armor drain) --------------------------------------------------------------------

  /**
   * armor move: the work of one ACTIVE Execution ARMOR moves to another live node as after a node loss (a new ARMOR
   * there, its services reassigned and their clients holding), but the old instance runs on until the new one serves,
   * and is stopped then: its clients' connections follow to the new instance. Answered once the old one stopped.
   */
  private void moveArmor(MoveRequest request, ElementContext context) {
    ExecutionArmorRow row = executions.get(request.getArmorId());
    String refusal = movable(request.getArmorId(), row);
    String target = request.getToNode();
    if (refusal == null && target.isEmpty()) {
      List<String> others = liveNodes().stream().filter(node -> !node.equals(row.getNode())).toList();
      target = Placement.plan(List.of(row), others, executions.values()).get(0).target().orElse("");
      refusal = target.isEmpty() ? "there is no other live node to move it to" : null;
    } else if (refusal == null) {
      refusal = movableTo(row, target);
    }
    if (refusal != null) {
      context.fail("cannot move " + request.getArmorId() + ": " + refusal);
      return;
    }
    context.log().info("FTM: the operator moves Execution ARMOR {} from node {} to node {}", row.getArmorId(),
        row.getNode(), target);
    startMove(row, target, new PlannedMoves.Request(context.deferReply(), null), context);
  }

  /**
   * armor drain: every ACTIVE Execution ARMOR of the node moves off it, each as {@link #moveArmor}, to the live nodes
   * with the fewest ARMORs; from now until its daemon restarts (or armor undrain) the FTM places no work there (a node
   * loss's migration, a pending ARMOR, a move). Nothing moves unless every ARMOR has somewhere to go.
   */
  private void drainNode(DrainRequest request, ElementContext context) {
    String node = request.getNode();
    if (directory.daemon(node).isEmpty()) {
      context.fail("cannot drain node '" + node + "': no daemon is registered for it; registered: "
          + directory.daemons().keySet());
      return;
    }
    List<ExecutionArmorRow> rows = Placement.activeOn(node, executions.values()).stream()
        .filter(row -> plannedMoves.ofNewArmor(row.getArmorId()).isEmpty()).toList();
    boolean wasDraining = plannedMoves.draining(node);
    plannedMoves.drain(node);
    List<Placement.Decision> plan = Placement.plan(rows, liveNodes(), executions.values());
    List<String> stuck = plan.stream().filter(d -> d.target().isEmpty()).map(d -> d.row().getArmorId()).toList();
    if (!stuck.isEmpty()) {
      if (!wasDraining) {
        plannedMoves.undrain(node);
      }
      context.fail("cannot drain node " + node + ": no other live node to move " + stuck + " to; nothing moved");
      return;
    }
    context.log().info("FTM: the operator drains node {}: {} Execution ARMOR(s) to move: {}; no work is placed there "
        + "until its daemon restarts or armor undrain", node, rows.size(),
        rows.stream().map(ExecutionArmorRow::getArmorId).toList());
    PlannedMoves.Request drain = new PlannedMoves.Request(context.deferReply(), node);
    if (plan.isEmpty()) {
      PlannedMoves.answer(drain);
      return;
    }
    for (Placement.Decision decision : plan) {
      startMove(decision.row(), decision.target().orElseThrow(), drain, context);
    }
  }

  /** armor undrain: the node takes work again without its daemon's restart (placements happen from now on). */
  private void undrainNode(DrainRequest request, ElementContext context) {
    if (!plannedMoves.undrain(request.getNode())) {
      context.fail("node '" + request.getNode() + "' is not drained");
      return;
    }
    context.log().info("FTM: the operator undrains node {}: it takes work again", request.getNode());
    context.setPayload(dev.armor.elements.control.Drained.newBuilder().setNode(request.getNode()).build());
    placePending(context);
  }

  /** Why the ARMOR cannot be moved now; null if it can. */
  private String movable(String armorId, ExecutionArmorRow row) {
    if (row == null) {
      return "no Execution ARMOR '" + armorId + "' (armor status lists them)";
    }
    if (row.getState() != ExecutionArmorState.ACTIVE) {
      return "it is " + row.getState() + " (" + row.getReason() + ")";
    }
    if (plannedMoves.ofNewArmor(armorId).isPresent()) {
      return "it is the new ARMOR of a move still under way";
    }
    return null;
  }

  /** Why the ARMOR's work cannot go to {@code target}; null if it can. */
  private String movableTo(ExecutionArmorRow row, String target) {
    if (target.equals(row.getNode())) {
      return "it runs on node " + target + " already";
    }
    if (directory.daemon(target).isEmpty()) {
      return "no daemon is registered for node '" + target + "'; registered: " + directory.daemons().keySet();
    }
    if (plannedMoves.draining(target)) {
      return "node " + target + " is drained (armor undrain " + target + " takes it back)";
    }
    if (!liveNodes().contains(target)) {
      return "node " + target + " is not reachable";
    }
    return null;
  }

  private void startMove(ExecutionArmorRow row, String target, PlannedMoves.Request request, ElementContext context) {
    List<ServiceEntry> previous = appServerDb.entries().stream()
        .filter(entry -> entry.getArmorId().equals(row.getArmorId())).toList();
    long started = context.nanoTime();
    String newId = moveTo(row, target, started, PLANNED, context);
    plannedMoves.started(new PlannedMoves.Move(row.getArmorId(), row.getNode(), newId, target,
        executions.get(newId).getLaunch().getServicesList(), previous, started, request));
  }

  /** The new instance of a move serves (every service of the move UP under it): its old instance is stopped now. */
  private void moveServing(PlannedMoves.Move move, ElementContext context) {
    boolean serving = move.services().stream().allMatch(service -> appServerDb.entries().stream().anyMatch(
        entry -> entry.getService().equals(service) && entry.getArmorId().equals(move.toArmorId())
            && entry.getState() == dev.armor.elements.wire.ServiceState.UP));
    if (!serving || !plannedMoves.stopOld(move)) {
      return;
    }
    context.log().info("FTM: planned move of {}: ARMOR {} serves {} on node {} after {} ms; stopping the old instance "
        + "on node {}", move.fromArmorId(), move.toArmorId(), move.services(), move.toNode(),
        millisSince(move.startedNanos(), context), move.fromNode());
    context.pipeToSelf(
        context.ask(move.fromArmorId(), Ops.STOP_PROCESS, Empty.getDefaultInstance(), REPORT_TIMEOUT),
        (reply, failure) -> Ops.of(Ops.MOVE_OLD_STOPPED, ProcessEvent.newBuilder().setArmorId(move.toArmorId())
            .setDetail(failure == null ? reply.getError() : String.valueOf(failure.getMessage())).build()));
  }

  /** The old ARMOR took the stop (its STOPPED event ends the move), or did not (the move ends, with the reason). */
  private void oldStopAsked(ProcessEvent outcome, ElementContext context) {
    plannedMoves.ofNewArmor(outcome.getArmorId()).ifPresent(move -> {
      if (!outcome.getDetail().isEmpty()) {
        context.log().warn("FTM: planned move of {}: the old instance on node {} did not take the stop ({}); ARMOR {} "
            + "serves on node {}", move.fromArmorId(), move.fromNode(), outcome.getDetail(), move.toArmorId(),
            move.toNode());
        plannedMoves.ended(move, "moved to " + move.toArmorId() + " on node " + move.toNode() + ", but the old "
            + "instance did not take the stop: " + outcome.getDetail(), context.nanoTime());
      }
    });
  }

  /** A process event of a move's ARMORs: the old one STOPPED ends the move; the new one failing rolls it back. */
  private void moveEvent(ProcessEvent event, ElementContext context) {
    for (PlannedMoves.Move move : plannedMoves.all()) {
      if (event.getArmorId().equals(move.fromArmorId()) && event.getKind() == ProcessEventKind.STOPPED) {
        context.log().info("FTM: planned move of {} (node {}) to ARMOR {} on node {} complete in {} ms",
            move.fromArmorId(), move.fromNode(), move.toArmorId(), move.toNode(), millisSince(move.startedNanos(), context));
        plannedMoves.ended(move, null, context.nanoTime());
      } else if (event.getArmorId().equals(move.toArmorId())
          && (event.getKind() == ProcessEventKind.GAVE_UP || event.getKind() == ProcessEventKind.STOPPED)) {
        String why = "its new instance on node " + move.toNode() + " " + event.getKind() + ": " + event.getDetail();
        if (plannedMoves.stoppingOld(move)) {
          plannedMoves.ended(move, why + ", after the old one was asked to stop", context.nanoTime());
        } else {
          rollBack(move, why, context);
        }
      } else if (event.getArmorId().equals(move.toArmorId()) && event.getKind() == ProcessEventKind.STARTED
          && move.services().isEmpty()) {
        moveServing(move, context); // nothing to register: started is serving
      }
    }
  }

  /**
   * The new ARMOR of a move could not be installed or gave up before it served: the old instance, which still runs,
   * keeps the work (its row ACTIVE again, its APP_SERVER_DB rows as they were, their clients told where it is).
   */
  private void rollBack(PlannedMoves.Move move, String why, ElementContext context) {
    context.log().warn("FTM: planned move of {} to node {} failed: {}; the old instance on node {} keeps its work",
        move.fromArmorId(), move.toNode(), why, move.fromNode());
    ExecutionArmorRow moved = executions.get(move.toArmorId());
    if (moved != null && moved.getState() == ExecutionArmorState.ACTIVE) {
      transitionTo(moved, ExecutionArmorState.FINISHED, "", "planned move rolled back: " + why, context);
    }
    ExecutionArmorRow old = executions.get(move.fromArmorId());
    if (old != null && old.getState() == ExecutionArmorState.REPLACED) {
      transitionTo(old, ExecutionArmorState.ACTIVE, "", "planned move to node " + move.toNode() + " rolled back: " + why,
          context);
    }
    move.previous().forEach(entry -> appServerDb.reinstate(entry, "planned move rolled back", context));
    migrations.remove(move.toArmorId());
    plannedMoves.ended(move, "the move to node " + move.toNode() + " failed (" + why + "); " + move.fromArmorId()
        + " serves on node " + move.fromNode(), context.nanoTime());
  }

  // ---- heartbeats -----------------------------------------------------------------------------------------------

  /** Pings every registered daemon; each answer (or its absence within one interval) comes back to the FTM. */
  private void heartbeat(ElementContext context) {
    for (DaemonRegistration daemon : directory.daemons().values()) {
      String node = daemon.getNode();
      context.pipeToSelf(
          context.ask(daemon.getArmorId(), Ops.DAEMON_HEARTBEAT, ping, heartbeatInterval),
          (reply, failure) -> {
            Throwable cause = failure != null && failure.getCause() != null ? failure.getCause() : failure;
            // An error reply is an answer too (a daemon that does not know heartbeats still lives).
            boolean answered = cause == null || cause instanceof dev.armor.elements.ArmorRequestException;
            return Ops.of(Ops.HEARTBEAT_ANSWERED, HeartbeatAnswer.newBuilder().setNode(node).setAnswered(answered)
                .setDetail(cause == null ? "" : String.valueOf(cause.getMessage())).build());
          });
    }
    context.scheduleToSelf(HEARTBEAT_TIMER, heartbeatInterval, Ops.HEARTBEAT_TICK, Empty.getDefaultInstance());
  }

  private void heartbeatAnswered(HeartbeatAnswer answer, ElementContext context) {
    if (answer.getAnswered()) {
      heartbeats.answered(answer.getNode(), context.nanoTime());
    } else {
      heartbeats.missed(answer.getNode(), context.nanoTime()).ifPresent(warning -> context.log().warn("FTM: {}", warning));
    }
  }

  /**
   * The operator retires one protected process: its Execution ARMOR stops it and will not restart it. Answers once
   * the ARMOR took the stop; the ARMOR's STOPPED event then finishes its row, and APP_SERVER_DB unregisters its
   * services and resets their clients (a stop is no crash: nothing is held for a restart that is not coming).
   */
  private void stopArmor(StopArmorRequest request, ElementContext context) {
    String armorId = request.getArmorId();
    ExecutionArmorRow row = executions.get(armorId);
    if (row == null) {
      context.fail("no Execution ARMOR '" + armorId + "' (armor status lists them)");
      return;
    }
    if (row.getState() != ExecutionArmorState.ACTIVE) {
      context.fail("Execution ARMOR " + armorId + " is " + row.getState() + " (" + row.getReason()
          + "): nothing to stop");
      return;
    }
    context.log().info("FTM: the operator stops {} on node {}", armorId, row.getNode());
    ReplyHandle reply = context.deferReply();
    context.ask(armorId, Ops.STOP_PROCESS, Empty.getDefaultInstance(), REPORT_TIMEOUT)
        .whenComplete(
            (answer, failure) -> {
              if (failure != null) {
                reply.fail("the Execution ARMOR " + armorId + " on node " + row.getNode() + " did not take the stop ("
                    + failure.getMessage() + ")");
              } else {
                reply.complete(ArmorStopping.newBuilder().setArmorId(armorId).setNode(row.getNode()).build());
              }
            });
  }

  /** Asks every daemon for its processes and connections, and answers when all replied or timed out. */
  private void status(StatusRequest request, ElementContext context) {
    ReplyHandle reply = context.deferReply();
    Map<String, List<String>> launched = new HashMap<>();
    executions.forEach((armorId, row) -> launched.put(armorId, row.getLaunch().getCommandList()));
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
              .setReachable(directory.memberAddress(daemon.getNode()).map(membership::live).orElse(false))
              .setHeartbeatAgeMillis(heartbeats.ageMillis(daemon.getNode(), context.nanoTime())));
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
                  ClusterStatus.newBuilder().setFtmNode(ftmNode).addAllServices(services).addAllEvents(recent)
                      .addAllMembers(membership.members()).setConverged(membership.converged());
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
              reply.complete(request.getHideArguments() ? ReaderView.of(status.build(), launched) : status.build());
            });
  }
}
