package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.RestartAnswer;
import dev.armor.elements.wire.RestartPermission;
import dev.armor.elements.wire.ExecutionArmorState;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.MemberChange;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FTM element's node-loss decisions, without a cluster: daemons are test probes (their gateway references are
 * local, so they all sit at the FTM's own member address; they are told apart by cluster uid), the tables are
 * recorded, and the element's requests (installs) are recorded instead of sent.
 */
class FtmElementMigrationTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final String SELF = "127.0.9.1:25520";
  private static final String SERVICE = "127.0.9.2:7000";

  private final List<Object> writes = new ArrayList<>();
  private final List<String> asked = new ArrayList<>();
  private final List<Message> installs = new ArrayList<>();
  private final java.util.ArrayDeque<Operation> piped = new java.util.ArrayDeque<>();
  private FtmDirectory directory;
  private AppServerDb appServerDb;
  private FtmElement ftm;
  private boolean membersLive = true;
  private CompletableFuture<Boolean> writeAcknowledged = CompletableFuture.completedFuture(true);
  private CompletableFuture<Boolean> majorityConfirms = CompletableFuture.completedFuture(true);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    directory = new FtmDirectory(ActorRefResolver.get(testKit.system()), SELF);
    AppServerDb.Store store = new AppServerDb.Store() {
      @Override
      public void put(ServiceEntry entry) {
        writes.add(entry);
      }

      @Override
      public void remove(String service) {}
    };
    appServerDb = new AppServerDb(List.of(), store, directory);
    FtmElement.Tables tables = new FtmElement.Tables() {
      @Override
      public void putDaemon(DaemonRegistration daemon) {}

      @Override
      public void removeDaemon(String node) {}

      @Override
      public CompletionStage<Boolean> putExecution(ExecutionArmorRow row) {
        writes.add(row);
        return writeAcknowledged;
      }

      @Override
      public CompletionStage<Boolean> confirmOnMajority() {
        return majorityConfirms;
      }
    };
    ftm = new FtmElement(directory, tables, appServerDb, List.of(), address -> membersLive, "test", Duration.ZERO);
  }

  private void registerDaemon(String node, long uid) {
    TestProbe<ArmorActor.Command> gateway = testKit.createTestProbe();
    handle(Ops.REGISTER_DAEMON, DaemonRegistration.newBuilder().setNode(node).setArmorId("daemon@" + node)
        .setClusterUid(uid).setHeartbeatMillis(500).setGatewayRef(ActorRefResolver.get(testKit.system()).toSerializationFormat(gateway.ref()))
        .build());
  }

  /** An ARMOR launched on n1 whose process registered SERVICE, with a client on n3. */
  private String serverOnN1() {
    installs.clear();
    handle(Ops.LAUNCH, dev.armor.elements.control.LaunchRequest.newBuilder().setNode("n1").addCommand("server").build());
    String armorId = ftm.executions().keySet().iterator().next();
    handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId(armorId).setNode("n1")
        .setPid(100).build(), appServerDb);
    handle(Ops.CLIENT_INTEREST, ClientInterest.newBuilder().setService(SERVICE).setNode("n3").build(), appServerDb);
    writes.clear();
    asked.clear();
    return armorId;
  }

  @Test
  void lostNode_armorMovesToTheLeastLoadedLiveNode_tableFirst_thenServices_thenInstall() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    registerDaemon("n3", 3);
    String old = serverOnN1();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT)
        .addMembers(SELF + "#2").addMembers(SELF + "#3").build());

    ExecutionArmorRow replaced = ftm.executions().get(old);
    assertThat(replaced.getState()).isEqualTo(ExecutionArmorState.REPLACED);
    ExecutionArmorRow moved = ftm.executions().get(replaced.getReplacedBy());
    assertThat(moved.getState()).isEqualTo(ExecutionArmorState.ACTIVE);
    assertThat(moved.getNode()).isEqualTo("n2");
    assertThat(moved.getArmorId()).startsWith("exec-n2-");
    assertThat(moved.getLaunch().getReplacesArmorId()).isEqualTo(old);
    assertThat(moved.getLaunch().getServicesList()).containsExactly(SERVICE);
    assertThat(writes).as("the table first, then APP_SERVER_DB").hasSize(3);
    assertThat(writes.get(0)).isEqualTo(moved);
    assertThat(writes.get(1)).isEqualTo(replaced);
    ServiceEntry entry = appServerDb.entries().get(0);
    assertThat(entry.getArmorId()).isEqualTo(moved.getArmorId());
    assertThat(entry.getNode()).isEqualTo("n2");
    assertThat(entry.getState()).isEqualTo(ServiceState.RECOVERING);
    assertThat(installs).containsExactly(moved.getLaunch());
    assertThat(asked).as("the reconciliation asks each live daemon what it runs; the install waits for the table write")
        .containsExactly("daemon@n2 " + Ops.DAEMON_REPORT, "daemon@n3 " + Ops.DAEMON_REPORT,
            "daemon@n2 " + Ops.INSTALL_EXECUTION_ARMOR);
    assertThat(directory.daemons()).doesNotContainKey("n1");
  }

  @Test
  void theNewArmorIsInstalledOnlyOnceTheTableWriteReachedAMajority() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    serverOnN1();
    writeAcknowledged = new CompletableFuture<>();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());
    assertThat(installs).isEmpty();

    writeAcknowledged.complete(true);
    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.REACHABLE).setAddress(SELF).build());
    assertThat(installs).hasSize(1);
  }

  @Test
  void reconciliation_reinstallsAnActiveArmorItsDaemonDoesNotRun_butNotOneThisFtmIsInstalling() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();
    writeAcknowledged = new CompletableFuture<>();
    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());
    String moved = ftm.executions().get(old).getReplacedBy();

    handle(Ops.RECONCILE_REPORT, dev.armor.elements.wire.ReconcileReport.newBuilder().setNode("n2").setClusterUid(2)
        .setAnswered(true).build());
    assertThat(installs).as("being installed already").isEmpty();

    writeAcknowledged.complete(true);
    handle(Ops.MIGRATION_INSTALLED, dev.armor.elements.wire.ProcessEvent.newBuilder().setArmorId(moved).setNode("n2")
        .setKind(ProcessEventKind.EXITED).setDetail("the daemon did not answer").build());
    installs.clear();
    handle(Ops.RECONCILE_REPORT, dev.armor.elements.wire.ReconcileReport.newBuilder().setNode("n2").setClusterUid(2)
        .setAnswered(true).build());
    assertThat(installs).as("an ACTIVE row its daemon does not run").hasSize(1);

    handle(Ops.RECONCILE_REPORT, dev.armor.elements.wire.ReconcileReport.newBuilder().setNode("n2").setClusterUid(2)
        .setAnswered(true).setReport(dev.armor.elements.wire.DaemonReport.newBuilder()
            .addProcesses(dev.armor.elements.wire.ProcessInfo.newBuilder().setArmorId(moved))).build());
    assertThat(installs).as("one it runs is left alone").hasSize(1);
  }

  @Test
  void reconciliation_restoresARegistrationADaemonServesThatTheReplicatedTableLacks() {
    registerDaemon("n1", 1);
    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#1").build());
    assertThat(appServerDb.entries()).isEmpty(); // the row was written behind and lost with the previous FTM

    handle(Ops.RECONCILE_REPORT, dev.armor.elements.wire.ReconcileReport.newBuilder().setNode("n1").setClusterUid(1)
        .setAnswered(true).setReport(dev.armor.elements.wire.DaemonReport.newBuilder()
            .addServices(RegisterService.newBuilder().setService(SERVICE).setArmorId("exec-n1-a").setNode("n1")
                .setPid(100))).build());

    assertThat(appServerDb.entries()).singleElement().satisfies(entry -> {
      assertThat(entry.getService()).isEqualTo(SERVICE);
      assertThat(entry.getArmorId()).isEqualTo("exec-n1-a");
      assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    });
    assertThat(installs).isEmpty();
  }

  @Test
  void noLiveNode_servicesFail_armorPending_thenPlacedWhenADaemonRegisters() {
    registerDaemon("n1", 1);
    String old = serverOnN1();
    membersLive = false;

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).build());

    assertThat(ftm.executions().get(old).getState()).isEqualTo(ExecutionArmorState.PENDING);
    assertThat(appServerDb.entries().get(0).getState()).isEqualTo(ServiceState.FAILED);
    assertThat(appServerDb.entries().get(0).getReason()).isEqualTo(FtmElement.NO_LIVE_NODE);
    assertThat(installs).isEmpty();

    membersLive = true;
    registerDaemon("n4", 4);

    ExecutionArmorRow replaced = ftm.executions().get(old);
    assertThat(replaced.getState()).isEqualTo(ExecutionArmorState.REPLACED);
    assertThat(ftm.executions().get(replaced.getReplacedBy()).getNode()).isEqualTo("n4");
    assertThat(appServerDb.entries().get(0).getState()).isEqualTo(ServiceState.RECOVERING);
    assertThat(installs).hasSize(1);
  }

  @Test
  void daemonRestartedOnTheNode_oldIncarnationsArmorsMove_andTheOldMembersRemovalIsIgnored() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();

    registerDaemon("n1", 11); // a new incarnation of n1's daemon

    ExecutionArmorRow replaced = ftm.executions().get(old);
    assertThat(replaced.getState()).isEqualTo(ExecutionArmorState.REPLACED);
    assertThat(ftm.executions().get(replaced.getReplacedBy()).getNode()).isEqualTo("n2");
    assertThat(directory.daemon("n1").orElseThrow().getClusterUid()).isEqualTo(11);
    int installsBefore = installs.size();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.REMOVED).setAddress(SELF).setUid(1).build());

    assertThat(directory.daemons()).containsKeys("n1", "n2");
    assertThat(installs).hasSize(installsBefore);
  }

  @Test
  void aNodeWhoseLeaseAMajorityDeclaredEnded_isLost_itsWorkMoves_andItsLaterRemovalChangesNothing() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.LEASE_ENDED).setAddress(SELF)
        .setUid(1).setDetail("its node lease ended: 2 of 3 members granted it nothing").build());

    ExecutionArmorRow replaced = ftm.executions().get(old);
    assertThat(replaced.getState()).isEqualTo(ExecutionArmorState.REPLACED);
    assertThat(ftm.executions().get(replaced.getReplacedBy()).getNode()).isEqualTo("n2");
    assertThat(directory.daemons()).containsOnlyKeys("n2");
    int installsBefore = installs.size();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.REMOVED).setAddress(SELF).setUid(1).build());
    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.LEASE_ENDED).setAddress(SELF)
        .setUid(1).build());

    assertThat(directory.daemons()).containsOnlyKeys("n2");
    assertThat(installs).hasSize(installsBefore);
    assertThat(ftm.executions().values()).filteredOn(row -> row.getState() == ExecutionArmorState.ACTIVE).hasSize(1);
  }

  @Test
  void theLeaseOfAnOldIncarnation_movesNothingOfTheRestartedDaemon() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    registerDaemon("n1", 11); // restarted: its old incarnation's work moved already
    String old = serverOnN1();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.LEASE_ENDED).setAddress(SELF)
        .setUid(1).build());

    assertThat(ftm.executions().get(old).getState()).isEqualTo(ExecutionArmorState.ACTIVE);
    assertThat(directory.daemons()).containsKeys("n1", "n2");
  }

  @Test
  void migratedArmorRegistering_isTheServicesRecovery_andTheOldIdIsRefused() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();
    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());
    String moved = ftm.executions().get(old).getReplacedBy();

    FakeContext refused = handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId(old)
        .setNode("n1").setPid(101).build(), appServerDb);
    FakeContext recovered = handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId(moved)
        .setNode("n2").setPid(200).build(), appServerDb);

    assertThat(refused.error).contains(moved);
    assertThat(recovered.error).isNull();
    assertThat(appServerDb.entries().get(0).getIncarnation()).isEqualTo(2);
    assertThat(appServerDb.entries().get(0).getState()).isEqualTo(ServiceState.UP);
  }

  @Test
  void lostNode_appWrappedByHand_fails_sinceNobodyCanStartItElsewhere() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId("daemon@n1").setNode("n1")
        .setPid(100).build(), appServerDb);

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());

    assertThat(appServerDb.entries().get(0).getState()).isEqualTo(ServiceState.FAILED);
    assertThat(installs).isEmpty();
  }

  @Test
  void aLaunchWhoseHangTimeoutIsBelowTwoOfItsNodesHeartbeats_isRefused_andNothingIsPlaced() {
    registerDaemon("n1", 1);

    FakeContext refused = handle(Ops.LAUNCH, dev.armor.elements.control.LaunchRequest.newBuilder().setNode("n1")
        .addCommand("server").setHangTimeoutMillis(999).build());

    assertThat(refused.error).isEqualTo("--hang-timeout must be at least two heartbeats (500 ms), but was 999 ms on"
        + " node n1: its app would be declared hung between two beats and killed on every start");
    assertThat(ftm.executions()).isEmpty();
    assertThat(installs).isEmpty();
    FakeContext accepted = handle(Ops.LAUNCH, dev.armor.elements.control.LaunchRequest.newBuilder().setNode("n1")
        .addCommand("server").setHangTimeoutMillis(1000).build());
    assertThat(accepted.error).isNull();
    assertThat(ftm.executions()).hasSize(1);
  }

  @Test
  void aFencedAppsRestart_isGrantedWhileItsWorkIsItsNodes_andRefusedOnceMovedAway() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();
    RestartPermission ask = RestartPermission.newBuilder().setArmorId(old).setNode("n1").setPid(100).build();

    RestartAnswer before = (RestartAnswer) handle(Ops.MAY_RESTART, ask).reply;
    assertThat(before.getGranted()).isTrue();
    assertThat(before.getArmorId()).isEqualTo(old);
    assertThat(before.getPid()).isEqualTo(100);

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());
    RestartAnswer after = (RestartAnswer) handle(Ops.MAY_RESTART, ask).reply;

    assertThat(after.getGranted()).isFalse();
    assertThat(after.getReason()).startsWith("its work is no longer node n1's: REPLACED by exec-n2-");
    assertThat(((RestartAnswer) handle(Ops.MAY_RESTART, ask.toBuilder().setArmorId("exec-n1-nope").build()).reply)
        .getReason()).isEqualTo("the FTM has no record of Execution ARMOR exec-n1-nope");
  }

  @Test
  void aFencedAppsRestart_isRefusedWhenNoMajorityAcknowledgesThisFtm_whichMayHaveBeenReplacedWhileItWasPaused() {
    registerDaemon("n1", 1);
    String old = serverOnN1();
    RestartPermission ask = RestartPermission.newBuilder().setArmorId(old).setNode("n1").setPid(100).build();
    majorityConfirms = new CompletableFuture<>();

    FakeContext asked = handle(Ops.MAY_RESTART, ask);
    assertThat(asked.reply).as("no answer before the majority's").isNull();
    FakeContext again = handle(Ops.MAY_RESTART, ask);
    assertThat(((RestartAnswer) again.reply).getReason()).isEqualTo("the same restart is being confirmed already");

    majorityConfirms.complete(false);
    handle(Ops.HEARTBEAT_ANSWERED, dev.armor.elements.wire.HeartbeatAnswer.newBuilder().setNode("n1")
        .setAnswered(true).build()); // any delivery runs what was piped meanwhile

    RestartAnswer answer = (RestartAnswer) asked.reply;
    assertThat(answer.getGranted()).isFalse();
    assertThat(answer.getReason()).isEqualTo("this FTM could not confirm on a majority of nodes that it still speaks "
        + "for the cluster (no majority acknowledged its write in time)");
    assertThat(ftm.executions().get(old).getState()).as("the table is untouched").isEqualTo(ExecutionArmorState.ACTIVE);
  }

  @Test
  void plannedMove_startsTheNewInstanceFirst_stopsTheOldOnceItServes_andAnswersOnceTheOldStopped() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    registerDaemon("n3", 3);
    String old = serverOnN1();

    FakeContext move = move(old, "n2");

    assertThat(move.error).isNull();
    assertThat(move.reply).as("answered only once the old instance stopped").isNull();
    ExecutionArmorRow replaced = ftm.executions().get(old);
    assertThat(replaced.getState()).isEqualTo(ExecutionArmorState.REPLACED);
    String moved = replaced.getReplacedBy();
    assertThat(ftm.executions().get(moved).getNode()).isEqualTo("n2");
    assertThat(installs).hasSize(1);
    assertThat(asked).as("the old instance runs on until the new one serves").doesNotContain(old + " " + Ops.STOP_PROCESS);

    handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId(moved).setNode("n2")
        .setPid(200).build(), appServerDb);
    assertThat(asked).contains(old + " " + Ops.STOP_PROCESS);
    assertThat(move.reply).isNull();

    handle(Ops.PROCESS_EVENT, dev.armor.elements.wire.ProcessEvent.newBuilder().setArmorId(old).setNode("n1")
        .setKind(ProcessEventKind.STOPPED).setPid(100).setDetail("stopped").build(), appServerDb);

    dev.armor.elements.control.Moved answer = (dev.armor.elements.control.Moved) move.reply;
    assertThat(answer.getFromArmorId()).isEqualTo(old);
    assertThat(answer.getArmorId()).isEqualTo(moved);
    assertThat(answer.getNode()).isEqualTo("n2");
    assertThat(answer.getServicesList()).containsExactly(SERVICE);
    ServiceEntry entry = appServerDb.entries().get(0);
    assertThat(entry.getArmorId()).as("the old ARMOR's stop leaves the moved service alone").isEqualTo(moved);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
  }

  @Test
  void plannedMoveWhoseNewArmorCannotBeInstalled_isRolledBack_theOldInstanceKeepsItsWork() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();
    ServiceEntry before = appServerDb.entries().get(0);

    FakeContext move = move(old, null);
    String moved = ftm.executions().get(old).getReplacedBy();
    assertThat(ftm.executions().get(moved).getNode()).as("the only other live node").isEqualTo("n2");
    handle(Ops.MIGRATION_INSTALLED, dev.armor.elements.wire.ProcessEvent.newBuilder().setArmorId(moved).setNode("n2")
        .setKind(ProcessEventKind.EXITED).setDetail("no such program").build());

    assertThat(move.error).contains("the move to node n2 failed").contains("no such program")
        .contains(old + " serves on node n1");
    assertThat(ftm.executions().get(old).getState()).isEqualTo(ExecutionArmorState.ACTIVE);
    assertThat(ftm.executions().get(moved).getState()).isEqualTo(ExecutionArmorState.FINISHED);
    ServiceEntry after = appServerDb.entries().get(0);
    assertThat(after.getArmorId()).isEqualTo(old);
    assertThat(after.getPid()).isEqualTo(before.getPid());
    assertThat(after.getState()).isEqualTo(ServiceState.UP);
    assertThat(after.getIncarnation()).as("clients told to re-attach there").isGreaterThan(before.getIncarnation());
    assertThat(asked).doesNotContain(old + " " + Ops.STOP_PROCESS);
  }

  @Test
  void plannedMoveWhoseTargetNodeIsLostBeforeItServes_isRolledBack_notMigratedOnward() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    registerDaemon("n3", 3);
    String old = serverOnN1();
    FakeContext move = move(old, "n2");
    String moved = ftm.executions().get(old).getReplacedBy();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT)
        .addMembers(SELF + "#1").addMembers(SELF + "#3").build()); // n2 lost

    assertThat(move.error).contains("its target node n2 was lost").contains(old + " serves on node n1");
    assertThat(ftm.executions().get(old).getState()).isEqualTo(ExecutionArmorState.ACTIVE);
    assertThat(ftm.executions().get(moved).getState()).isEqualTo(ExecutionArmorState.FINISHED);
    assertThat(ftm.executions().values()).as("nothing migrated onward to n3")
        .noneMatch(row -> row.getNode().equals("n3"));
    assertThat(appServerDb.entries().get(0).getArmorId()).isEqualTo(old);
  }

  @Test
  void drainedNode_movesItsArmorsAway_andTakesNoWorkUntilItsDaemonRestarts() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();

    FakeContext drain = handle(Ops.DRAIN_NODE, dev.armor.elements.control.DrainRequest.newBuilder().setNode("n1").build());
    assertThat(drain.error).isNull();
    String moved = ftm.executions().get(old).getReplacedBy();
    assertThat(ftm.executions().get(moved).getNode()).isEqualTo("n2");

    FakeContext back = move(moved, "n1");
    assertThat(back.error).contains("it is the new ARMOR of a move still under way");
    handle(Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(SERVICE).setArmorId(moved).setNode("n2")
        .setPid(200).build(), appServerDb);
    handle(Ops.PROCESS_EVENT, dev.armor.elements.wire.ProcessEvent.newBuilder().setArmorId(old).setNode("n1")
        .setKind(ProcessEventKind.STOPPED).setPid(100).build(), appServerDb);
    assertThat(((dev.armor.elements.control.Drained) drain.reply).getMovesCount()).isEqualTo(1);

    FakeContext refused = move(moved, "n1");
    assertThat(refused.error).isEqualTo("cannot move " + moved + ": node n1 is drained (armor undrain n1 takes it back)");
    FakeContext nowhere = move(moved, null);
    assertThat(nowhere.error).isEqualTo("cannot move " + moved + ": there is no other live node to move it to");

    registerDaemon("n1", 11); // its daemon restarted
    FakeContext again = move(moved, "n1");
    assertThat(again.error).isNull();
  }

  @Test
  void nodeDown_isInTheEventLog_withMigrating() {
    registerDaemon("n1", 1);
    registerDaemon("n2", 2);
    String old = serverOnN1();

    handle(Ops.MEMBER_CHANGE, MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).addMembers(SELF + "#2").build());

    FakeContext status = new FakeContext();
    // status asks the daemons; the events it carries are what matters here
    ftm.handle(Ops.of(Ops.STATUS, dev.armor.elements.control.StatusRequest.getDefaultInstance()), status);
    assertThat(status.reply).isNotNull();
    dev.armor.elements.wire.ClusterStatus reply = (dev.armor.elements.wire.ClusterStatus) status.reply;
    assertThat(reply.getEventsList()).extracting(e -> e.getKind())
        .contains(ProcessEventKind.NODE_DOWN, ProcessEventKind.MIGRATING);
    assertThat(reply.getEventsList()).anyMatch(e -> e.getKind() == ProcessEventKind.MIGRATING && e.getArmorId().equals(old));
  }

  /** armor move of {@code armorId} to {@code toNode} (null: the FTM picks). */
  private FakeContext move(String armorId, String toNode) {
    return handle(Ops.MOVE_ARMOR, dev.armor.elements.control.MoveRequest.newBuilder().setArmorId(armorId)
        .setToNode(toNode == null ? "" : toNode).build());
  }

  private FakeContext handle(String type, Message argument) {
    return handle(type, argument, null);
  }

  /** Delivers an operation as the FTM ARMOR would: APP_SERVER_DB first (when it subscribes), then the FTM element. */
  private FakeContext handle(String type, Message argument, AppServerDb first) {
    FakeContext context = new FakeContext();
    Operation operation = Ops.of(type, argument);
    if (appServerDb.subscriptions().contains(type)) {
      appServerDb.handle(operation, context);
    }
    if (context.error == null && ftm.subscriptions().contains(type)) {
      ftm.handle(operation, context);
    }
    // What the element piped to itself from completed stages comes back as the ARMOR would deliver it.
    while (!piped.isEmpty()) {
      Operation next = piped.poll();
      FakeContext self = new FakeContext();
      if (appServerDb.subscriptions().contains(next.getType())) {
        appServerDb.handle(next, self);
      }
      if (ftm.subscriptions().contains(next.getType())) {
        ftm.handle(next, self);
      }
    }
    return context;
  }

  /** One operation's context: records asks (installs), answers asks never, fails loudly on what is not expected. */
  private final class FakeContext implements ElementContext {
    private static final Logger LOG = LoggerFactory.getLogger(FtmElementMigrationTest.class);
    String error;
    Message reply;
    Any payload = Any.getDefaultInstance();

    @Override
    public String armorId() {
      return "ftm";
    }

    @Override
    public ArmorMessage message() {
      return ArmorMessage.getDefaultInstance();
    }

    @Override
    public Any payload() {
      return payload;
    }

    @Override
    public void setPayload(Message newPayload) {
      payload = Any.pack(newPayload);
    }

    @Override
    public void push(String type, Message argument) {
      throw new UnsupportedOperationException("push");
    }

    @Override
    public ReplyHandle deferReply() {
      return new ReplyHandle() {
        @Override
        public void complete(Message message) {
          reply = message;
        }

        @Override
        public void fail(String failure) {
          error = failure;
        }
      };
    }

    @Override
    public void fail(String failure) {
      error = failure;
    }

    @Override
    public void send(String toArmorId, String type, Message argument) {}

    @Override
    public void forward(String toArmorId) {}

    @Override
    public void forward(String toArmorId, String type, Message argument) {
      if (type.equals(Ops.INSTALL_EXECUTION_ARMOR)) {
        installs.clear(); // a launch, not a migration
      }
    }

    @Override
    public CompletionStage<ArmorMessage> ask(String toArmorId, String type, Message argument, Duration timeout) {
      asked.add(toArmorId + " " + type);
      if (type.equals(Ops.INSTALL_EXECUTION_ARMOR)) {
        installs.add(argument);
      }
      return type.equals(Ops.DAEMON_REPORT)
          ? CompletableFuture.failedFuture(new IllegalStateException("no daemon in this test"))
          : new CompletableFuture<>();
    }

    @Override
    public <T> void pipeToSelf(CompletionStage<T> stage, BiFunction<T, Throwable, Operation> toOperation) {
      stage.whenComplete((value, failure) -> piped.add(toOperation.apply(value, failure)));
    }

    @Override
    public void scheduleToSelf(String key, Duration delay, String type, Message argument) {}

    @Override
    public void cancelTimer(String key) {}

    @Override
    public long nanoTime() {
      return 0;
    }

    @Override
    public long currentTimeMillis() {
      return 0;
    }

    @Override
    public Logger log() {
      return LOG;
    }
  }
}
