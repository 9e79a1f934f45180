package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRouter;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.AppSocket;
import dev.armor.elements.wire.AppSockets;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessHeartbeat;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ProcessLaunched;
import dev.armor.elements.wire.RestartAnswer;
import dev.armor.elements.wire.RestartPermission;
import dev.armor.elements.wire.RestartPolicy;
import dev.armor.execution.FakeProcessLauncher.FakeProcess;
import dev.armor.execution.FakeProcessLauncher.Launch;
import dev.armor.execution.progress.AppSocketSampler;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Execution ARMOR's element hosted by a real {@link ArmorActor}, driven through the ARMOR's protocol. The
 * processes are fakes the test makes exit; the events the element sends to the FTM land on a probe; Pekko's
 * timers run on {@link ManualTime} and the ARMOR's clock is the test's, moved together by {@link #timePasses}.
 */
@ExtendWith(LogCapture.class)
class ExecutionElementTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final AtomicInteger ARMORS = new AtomicInteger();

  private static final String NODE = "node-a";
  private static final Path LOG_DIRECTORY = Path.of("/var/log/armor");
  private static final List<String> COMMAND = List.of("java", "-jar", "/srv/echo-server.jar", "--port", "7000");
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  /** A crash loop ends after 3 restarts; the backoff goes 0, 100 ms, 200 ms, capped at 400 ms. */
  private static final RestartPolicy POLICY =
      RestartPolicy.newBuilder()
          .setMaxRestarts(3)
          .setWindowMillis(60_000)
          .setInitialBackoffMillis(100)
          .setMaxBackoffMillis(400)
          .build();

  private final String armorId = ArmorIds.execution(NODE, "t" + ARMORS.incrementAndGet());
  private final FakeProcessLauncher launcher = new FakeProcessLauncher();
  private final TestClock clock = new TestClock();
  private final FakeSampler sampler = new FakeSampler();
  private final TestProbe<ArmorMessage> ftm = testKit.createTestProbe();
  private final TestProbe<ArmorMessage> requester = testKit.createTestProbe();
  private final java.util.concurrent.BlockingQueue<Ask> restartAsks = new java.util.concurrent.LinkedBlockingQueue<>();

  /** Messages to the FTM go to {@link #ftm}; there is no route to any other ARMOR. */
  private final ArmorRouter router =
      (message, replyTo) -> {
        if (!message.getTo().equals(ArmorIds.FTM)) {
          return false;
        }
        if (message.getBundles(0).getOperations(0).getType().equals(Ops.MAY_RESTART)) {
          restartAsks.add(new Ask(message, replyTo));
          return true;
        }
        ftm.ref().tell(message);
        return true;
      };

  /** An ask of the ARMOR to the FTM, and where its answer goes. */
  private record Ask(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    RestartPermission permission() {
      return Ops.argument(message.getBundles(0).getOperations(0), RestartPermission.class);
    }

    void answer(RestartAnswer answer) {
      replyTo.tell(ArmorMessage.newBuilder().setFrom(ArmorIds.FTM).setTo(message.getFrom())
          .setCorrelationId(message.getCorrelationId()).setPayload(com.google.protobuf.Any.pack(answer)).build());
    }
  }


  private ActorRef<ArmorActor.Command> armor;

  @BeforeEach
  void spawnArmor() {
    ExecutionElement element = new ExecutionElement(NODE, launcher, LOG_DIRECTORY, ExecutionElementTest::agentOptions,
        ExecutionElement.DEFAULT_HANG_TIMEOUT, sampler);
    armor = testKit.spawn(ArmorActor.create(armorId, List.of(element), router, clock), armorId);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  // ---- launch ------------------------------------------------------------------------------------

  @Test
  void launch_repliesProcessLaunchedWithPidAndLogFile_andReportsStarted() {
    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().setWorkingDirectory("/srv").build());

    assertThat(reply.getError()).isEmpty();
    Launch launch = launcher.nextLaunch();
    Path logFile = LOG_DIRECTORY.resolve(armorId + ".log");
    assertThat(Ops.unpack(reply.getPayload(), ProcessLaunched.class))
        .isEqualTo(
            ProcessLaunched.newBuilder()
                .setArmorId(armorId)
                .setNode(NODE)
                .setPid(launch.process().pid())
                .setLogFile(logFile.toString())
                .build());
    assertThat(launch.command()).isEqualTo(COMMAND);
    assertThat(launch.workingDirectory()).isEqualTo(Path.of("/srv"));
    assertThat(launch.logFile()).isEqualTo(logFile);

    ProcessEvent started = expectEvent(ProcessEventKind.STARTED);
    assertThat(started.getArmorId()).isEqualTo(armorId);
    assertThat(started.getNode()).isEqualTo(NODE);
    assertThat(started.getPid()).isEqualTo(launch.process().pid());
    assertThat(started.getRestarts()).isZero();
    assertThat(started.getAtMillis()).isEqualTo(clock.currentTimeMillis());
    assertThat(started.getDetail()).contains(String.join(" ", COMMAND));
    assertThat(describe().getState()).isEqualTo("RUNNING");
  }

  @Test
  void launch_withoutWorkingDirectory_inheritsTheDaemons() {
    launchOk();

    assertThat(launcher.nextLaunch().workingDirectory()).isNull();
  }

  @Test
  void launch_javaToolOptions_areTheAgentOptionsForThisArmorPrependedToTheRequestedOnes_andArmorIdIsSet() {
    request(
        Ops.LAUNCH_PROCESS,
        launchRequest().putEnvironment("JAVA_TOOL_OPTIONS", "-Xmx64m").putEnvironment("APP_MODE", "primary").build());

    Map<String, String> environment = launcher.nextLaunch().environment();
    assertThat(environment)
        .containsEntry("JAVA_TOOL_OPTIONS", agentOptions(armorId) + " -Xmx64m")
        .containsEntry("ARMOR_ARMOR_ID", armorId)
        .containsEntry("APP_MODE", "primary");
  }

  @Test
  void launch_withoutRequestedJavaToolOptions_givesTheAgentOptionsAlone() {
    launchOk();

    Map<String, String> environment = launcher.nextLaunch().environment();
    assertThat(environment)
        .containsEntry("JAVA_TOOL_OPTIONS", agentOptions(armorId))
        .containsEntry("ARMOR_ARMOR_ID", armorId);
  }

  @Test
  void launch_launcherThrowsIOException_failsTheRequestNamingTheCommand_andReportsGaveUp() {
    launcher.failWith(new IOException("error=2, No such file or directory"));

    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().build());

    assertThat(reply.getError())
        .contains("cannot start " + String.join(" ", COMMAND))
        .contains("No such file or directory");
    ProcessEvent gaveUp = expectEvent(ProcessEventKind.GAVE_UP);
    assertThat(gaveUp.getDetail()).contains("cannot start").contains("No such file or directory");
    assertThat(describe().getState()).isEqualTo("GAVE_UP");
  }

  @Test
  void launch_twice_failsTheSecondWithAlreadyLaunched() {
    launchOk();
    launcher.nextLaunch();
    expectEvent(ProcessEventKind.STARTED);

    ArmorMessage second = request(Ops.LAUNCH_PROCESS, launchRequest().build());

    assertThat(second.getError()).contains("already launched").contains(armorId);
    launcher.expectNoLaunch();
    ftm.expectNoMessage();
  }

  @Test
  void launch_emptyCommand_failsAndLaunchesNothing() {
    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().clearCommand().build());

    assertThat(reply.getError()).contains("command to launch is empty");
    launcher.expectNoLaunch();
    ftm.expectNoMessage();
    assertThat(describe().getState()).isEqualTo("NEW");
  }

  @Test
  void launch_invalidPolicy_failsNamingTheSetting() {
    RestartPolicy negativeWindow = POLICY.toBuilder().setWindowMillis(-1).build();

    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().setPolicy(negativeWindow).build());

    assertThat(reply.getError()).contains("restart-window");
    launcher.expectNoLaunch();
    assertThat(describe().getState()).isEqualTo("NEW");
  }

  @Test
  void policy_withOnlyMaxRestartsSet_takesTheDefaultsForTheRest() {
    RestartPolicy partial = RestartPolicy.newBuilder().setMaxRestarts(3).build();

    RestartPolicy effective = ExecutionElement.withDefaults(launchRequest().setPolicy(partial).build());

    assertThat(effective.getMaxRestarts()).isEqualTo(3);
    assertThat(effective.getWindowMillis()).isEqualTo(ExecutionElement.DEFAULT_POLICY.getWindowMillis());
    assertThat(effective.getInitialBackoffMillis()).isEqualTo(ExecutionElement.DEFAULT_POLICY.getInitialBackoffMillis());
    assertThat(effective.getMaxBackoffMillis()).isEqualTo(ExecutionElement.DEFAULT_POLICY.getMaxBackoffMillis());
  }

  // ---- exits and restarts ------------------------------------------------------------------------

  @Test
  void crash_killedBySigkill_reportsExitedThenRestartingThenStartedOfANewPid() {
    FakeProcess first = launchAndStart();
    clock.advance(Duration.ofSeconds(30));

    first.exitWith(137);

    ProcessEvent exited = expectEvent(ProcessEventKind.EXITED);
    assertThat(exited.getPid()).isEqualTo(first.pid());
    assertThat(exited.getExitCode()).isEqualTo(137);
    assertThat(exited.getDetail()).contains("killed by SIGKILL").contains("after 30000 ms");
    assertThat(expectEvent(ProcessEventKind.RESTARTING).getDetail()).contains("restart in 0 ms");
    Launch restart = launcher.nextLaunch();
    ProcessEvent started = expectEvent(ProcessEventKind.STARTED);
    assertThat(started.getPid()).isEqualTo(restart.process().pid()).isNotEqualTo(first.pid());
    assertThat(started.getRestarts()).isEqualTo(1);
    assertThat(restart.command()).isEqualTo(COMMAND);
    assertThat(restart.environment()).containsEntry("JAVA_TOOL_OPTIONS", agentOptions(armorId));
  }

  @Test
  void exit_statusZero_reportsStopped_andDoesNotRestart() {
    FakeProcess process = launchAndStart();

    process.exitWith(0);

    ProcessEvent stopped = expectEvent(ProcessEventKind.STOPPED);
    assertThat(stopped.getPid()).isEqualTo(process.pid());
    assertThat(stopped.getDetail()).contains("exited normally");
    timePasses(Duration.ofSeconds(10));
    assertThat(describe().getState()).isEqualTo("STOPPED");
    launcher.expectNoLaunch();
    ftm.expectNoMessage();
  }

  @Test
  void crashLoop_backsOffBetweenRestarts_andGivesUpAfterThePolicysMaxRestarts() {
    FakeProcess process = launchAndStart();

    process = crashAndExpectRestartAfter(process, Duration.ZERO);
    process = crashAndExpectRestartAfter(process, Duration.ofMillis(100));
    process = crashAndExpectRestartAfter(process, Duration.ofMillis(200));
    process.exitWith(1);

    assertThat(expectEvent(ProcessEventKind.EXITED).getDetail()).contains("exited with status 1");
    ProcessEvent gaveUp = expectEvent(ProcessEventKind.GAVE_UP);
    assertThat(gaveUp.getPid()).isEqualTo(process.pid());
    assertThat(gaveUp.getRestarts()).isEqualTo(3);
    assertThat(gaveUp.getDetail()).contains("gave up after 3 restarts within 60000 ms");
    timePasses(Duration.ofSeconds(10));
    ProcessInfo info = describe();
    assertThat(info.getState()).isEqualTo("GAVE_UP");
    assertThat(info.getRestarts()).isEqualTo(3);
    launcher.expectNoLaunch();
    ftm.expectNoMessage();
  }

  @Test
  void crash_afterAStableRun_restartsAtOnceEvenAfterACrashLoop() {
    request(Ops.LAUNCH_PROCESS, launchRequest().setPolicy(POLICY.toBuilder().setMaxRestarts(10)).build());
    FakeProcess process = launcher.nextLaunch().process();
    expectEvent(ProcessEventKind.STARTED);
    process = crashAndExpectRestartAfter(process, Duration.ZERO);
    process = crashAndExpectRestartAfter(process, Duration.ofMillis(100));

    clock.advance(RestartBudget.STABLE_AFTER);
    process = crashAndExpectRestartAfter(process, Duration.ZERO);

    assertThat(describe().getPid()).isEqualTo(process.pid());
  }

  @Test
  void launch_withoutPolicy_usesTheDefaultPolicysBackoff() {
    request(Ops.LAUNCH_PROCESS, launchRequest().clearPolicy().build());
    FakeProcess process = launcher.nextLaunch().process();
    expectEvent(ProcessEventKind.STARTED);

    process = crashAndExpectRestartAfter(process, Duration.ZERO);
    crashAndExpectRestartAfter(process, Duration.ofMillis(ExecutionElement.DEFAULT_POLICY.getInitialBackoffMillis()));
  }

  @Test
  void exit_ofAnOldPid_isIgnored() {
    FakeProcess first = launchAndStart();
    FakeProcess second = crashAndExpectRestartAfter(first, Duration.ZERO);

    ArmorMessage reply =
        request(Ops.PROCESS_EXITED, ProcessEvent.newBuilder().setPid(first.pid()).setExitCode(137).build());

    assertThat(reply.getError()).isEmpty();
    ftm.expectNoMessage();
    launcher.expectNoLaunch();
    ProcessInfo info = describe();
    assertThat(info.getState()).isEqualTo("RUNNING");
    assertThat(info.getPid()).isEqualTo(second.pid());
    assertThat(info.getRestarts()).isEqualTo(1);
  }

  @Test
  void restart_launcherFailsOnce_retriesAfterTheBackoffAndStarts() {
    FakeProcess process = launchAndStart();
    launcher.failWith(new IOException("error=26, Text file busy"));
    process.exitWith(1);
    expectEvent(ProcessEventKind.EXITED);
    expectEvent(ProcessEventKind.RESTARTING);

    ProcessInfo afterFailedRestart = describe();
    launcher.failWith(null);
    timePasses(Duration.ofMillis(99));
    assertThat(describe().getState()).isEqualTo("RESTARTING");
    launcher.expectNoLaunch();
    timePasses(Duration.ofMillis(1));

    assertThat(afterFailedRestart.getState()).isEqualTo("RESTARTING");
    FakeProcess restarted = launcher.nextLaunch().process();
    ProcessEvent started = expectEvent(ProcessEventKind.STARTED);
    assertThat(started.getPid()).isEqualTo(restarted.pid());
    assertThat(started.getRestarts()).isEqualTo(2);
  }

  @Test
  void restart_launcherKeepsFailing_givesUpWhenTheBudgetIsSpent() {
    FakeProcess process = launchAndStart();
    launcher.failWith(new IOException("error=13, Permission denied"));
    process.exitWith(1);
    expectEvent(ProcessEventKind.EXITED);
    expectEvent(ProcessEventKind.RESTARTING);

    describe(); // the failed restart has set its retry timer
    timePasses(Duration.ofMillis(100));
    describe();
    timePasses(Duration.ofMillis(200));

    ProcessEvent gaveUp = expectEvent(ProcessEventKind.GAVE_UP);
    assertThat(gaveUp.getDetail()).contains("cannot start").contains("Permission denied");
    assertThat(describe().getState()).isEqualTo("GAVE_UP");
    launcher.expectNoLaunch();
  }

  // ---- stop ----------------------------------------------------------------------------------------

  @Test
  void stop_stopsTheProcess_andItsExitIsReportedStoppedWithoutRestart() {
    FakeProcess process = launchAndStart();

    ArmorMessage reply = request(Ops.STOP_PROCESS, ProcessEvent.getDefaultInstance());

    assertThat(reply.getError()).isEmpty();
    assertThat(process.stops()).containsExactly(STOP_GRACE);
    assertThat(describe().getState()).isEqualTo("STOPPING");
    process.exitWith(143); // SIGTERM: not a crash

    ProcessEvent stopped = expectEvent(ProcessEventKind.STOPPED);
    assertThat(stopped.getPid()).isEqualTo(process.pid());
    assertThat(stopped.getExitCode()).isEqualTo(143);
    assertThat(stopped.getDetail()).contains("stopped by the operator");
    timePasses(Duration.ofSeconds(10));
    assertThat(describe().getState()).isEqualTo("STOPPED");
    launcher.expectNoLaunch();
    ftm.expectNoMessage();
  }

  @Test
  void stop_whileWaitingOutABackoff_cancelsTheRestart() {
    FakeProcess process = launchAndStart();
    process = crashAndExpectRestartAfter(process, Duration.ZERO);
    process.exitWith(1);
    expectEvent(ProcessEventKind.EXITED);
    expectEvent(ProcessEventKind.RESTARTING);

    request(Ops.STOP_PROCESS, ProcessEvent.getDefaultInstance());

    assertThat(expectEvent(ProcessEventKind.STOPPED).getDetail()).contains("stopped by the operator");
    timePasses(Duration.ofSeconds(10));
    assertThat(describe().getState()).isEqualTo("STOPPED");
    launcher.expectNoLaunch();
  }

  @Test
  void armorStops_killsALiveProcessAtOnce() {
    FakeProcess process = launchAndStart();

    testKit.stop(armor);

    assertThat(process.stops()).isEmpty();
    assertThat(process.kills()).isEqualTo(1);
  }

  @Test
  void armorStops_afterTheProcessExited_stopsNothing() {
    FakeProcess process = launchAndStart();
    process.exitWith(0);
    expectEvent(ProcessEventKind.STOPPED);

    testKit.stop(armor);

    assertThat(process.stops()).isEmpty();
  }

  // ---- hangs ---------------------------------------------------------------------------------------

  @Test
  void hang_noHeartbeatForTheHangTimeout_killsTheProcessReportsHungAndRestartsIt() {
    FakeProcess process = launchAndStart(1000);
    beat(process.pid());
    timePasses(Duration.ofMillis(500));
    beat(process.pid());
    timePasses(Duration.ofMillis(999)); // 999 ms since the last beat: not yet
    assertThat(describe().getState()).isEqualTo("RUNNING");
    assertThat(process.kills()).isZero();

    timePasses(Duration.ofMillis(1));

    ProcessEvent hung = expectEvent(ProcessEventKind.HUNG);
    assertThat(hung.getPid()).isEqualTo(process.pid());
    assertThat(hung.getAtMillis()).isEqualTo(clock.currentTimeMillis());
    assertThat(hung.getDetail()).isEqualTo("no heartbeat from pid " + process.pid()
        + " for 1000 ms (hang timeout 1000 ms): killed with SIGKILL, restart follows");
    assertThat(process.kills()).isEqualTo(1);
    ProcessEvent exited = expectEvent(ProcessEventKind.EXITED);
    assertThat(exited.getExitCode()).isEqualTo(137);
    assertThat(exited.getDetail()).startsWith("pid " + process.pid() + " hung: no heartbeat from pid " + process.pid()
        + " for 1000 ms (hang timeout 1000 ms); it was killed by SIGKILL");
    expectEvent(ProcessEventKind.RESTARTING);
    FakeProcess next = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(next.pid());
    assertThat(describe().getRestarts()).isEqualTo(1);
  }

  @Test
  void hang_theRestartedProcessIsWatchedAfresh_fromItsOwnFirstHeartbeat() {
    FakeProcess process = launchAndStart(1000);
    beat(process.pid());
    timePasses(Duration.ofMillis(1000));
    expectEvent(ProcessEventKind.HUNG);
    expectEvent(ProcessEventKind.EXITED);
    expectEvent(ProcessEventKind.RESTARTING);
    FakeProcess next = launcher.nextLaunch().process();
    expectEvent(ProcessEventKind.STARTED);

    beat(process.pid()); // a late beat of the killed incarnation does not arm the check
    timePasses(Duration.ofSeconds(30));
    assertThat(describe().getState()).isEqualTo("RUNNING");
    assertThat(next.kills()).isZero();

    beat(next.pid());
    timePasses(Duration.ofMillis(1000));
    assertThat(expectEvent(ProcessEventKind.HUNG).getPid()).isEqualTo(next.pid());
  }

  @Test
  void hang_aCheckFarLaterThanDue_isTheArmorsOwnPause_notTheApps_andTheAppIsWatchedAfresh() {
    FakeProcess process = launchAndStart(1000);
    beat(process.pid());

    clock.advance(Duration.ofSeconds(10)); // the ARMOR stood still: no timer fired, no beat was read
    LoggingTestKit.warn("its hang check ran 9000 ms late: the ARMOR itself was paused").expect(testKit.system(), () -> {
      manualTime.timePasses(Duration.ofMillis(1000));
      return describe();
    });
    assertThat(process.kills()).isZero();

    timePasses(Duration.ofMillis(999));
    assertThat(process.kills()).isZero();
    timePasses(Duration.ofMillis(1)); // and silent for a whole timeout since: hung
    assertThat(expectEvent(ProcessEventKind.HUNG).getPid()).isEqualTo(process.pid());
  }

  @Test
  void hang_aProcessThatNeverBeats_isNeverDeclaredHung() {
    FakeProcess process = launchAndStart(1000);

    timePasses(Duration.ofMinutes(5));

    assertThat(describe().getState()).isEqualTo("RUNNING");
    assertThat(process.kills()).isZero();
    ftm.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void hang_beatsOfAnUnrelatedPid_doNotCount() {
    FakeProcess process = launchAndStart(1000);

    beat(99_999);
    timePasses(Duration.ofMinutes(1));

    assertThat(process.kills()).isZero();
    ftm.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void hang_regularBeats_keepTheProcessAlive() {
    FakeProcess process = launchAndStart(1000);
    for (int i = 0; i < 40; i++) {
      beat(process.pid());
      timePasses(Duration.ofMillis(500));
    }

    assertThat(process.kills()).isZero();
    ftm.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void hang_withoutATimeoutOfItsOwn_usesTheDaemonsDefault() {
    FakeProcess process = launchAndStart(0);
    beat(process.pid());
    timePasses(ExecutionElement.DEFAULT_HANG_TIMEOUT.minusMillis(1));
    assertThat(process.kills()).isZero();

    timePasses(Duration.ofMillis(1));

    assertThat(expectEvent(ProcessEventKind.HUNG).getDetail()).contains("(hang timeout 3000 ms)");
  }

  @Test
  void hang_stoppingTheProcess_endsTheWatch() {
    FakeProcess process = launchAndStart(1000);
    beat(process.pid());
    request(Ops.STOP_PROCESS, ProcessEvent.getDefaultInstance());

    timePasses(Duration.ofSeconds(10));

    assertThat(process.kills()).isZero();
    assertThat(describe().getState()).isEqualTo("STOPPING");
  }

  @Test
  void launch_negativeHangTimeout_failsNamingTheSetting() {
    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().setHangTimeoutMillis(-1).build());

    assertThat(reply.getError()).isEqualTo("hang-timeout must be positive (or 0 for the daemon's default), but was -1 ms");
    launcher.expectNoLaunch();
  }

  @Test
  void exit_withTheFencedStatus_isSaidInAnOperatorsWords() {
    assertThat(ExecutionElement.describeExit(86)).isEqualTo("halted itself (exit status 86: its shim found the daemon gone)");
  }

  // ---- an app that fenced itself ----------------------------------------------------------------------------

  @Test
  void fenced_whenTheFtmSaysTheWorkIsStillThisNodes_isRestarted() throws Exception {
    FakeProcess process = launchAndStart();

    process.exitWith(ExecutionElement.FENCED_STATUS);

    assertThat(expectEvent(ProcessEventKind.EXITED).getDetail()).contains("halted itself");
    Ask ask = restartAsks.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(ask).as("the FTM is asked first").isNotNull();
    assertThat(ask.permission()).isEqualTo(
        RestartPermission.newBuilder().setArmorId(armorId).setNode(NODE).setPid(process.pid()).build());
    launcher.expectNoLaunch();

    ask.answer(RestartAnswer.newBuilder().setGranted(true).build());

    expectEvent(ProcessEventKind.RESTARTING);
    FakeProcess next = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(next.pid());
  }

  @Test
  void fenced_whenItsWorkWasMovedToAnotherNode_isNotRestarted_andReportedStopped() throws Exception {
    FakeProcess process = launchAndStart();
    process.exitWith(ExecutionElement.FENCED_STATUS);
    expectEvent(ProcessEventKind.EXITED);

    restartAsks.poll(5, java.util.concurrent.TimeUnit.SECONDS)
        .answer(RestartAnswer.newBuilder().setReason("its work is no longer node node-a's: REPLACED by exec-n2-x").build());

    ProcessEvent stopped = expectEvent(ProcessEventKind.STOPPED);
    assertThat(stopped.getDetail()).endsWith("; not restarted: its work is no longer node node-a's: REPLACED by exec-n2-x");
    assertThat(describe().getState()).isEqualTo("STOPPED");
    launcher.expectNoLaunch();
  }

  @Test
  void fenced_whenTheFtmNeverAnswers_isAskedAgain_thenNotRestarted() throws Exception {
    FakeProcess process = launchAndStart();
    process.exitWith(ExecutionElement.FENCED_STATUS);
    expectEvent(ProcessEventKind.EXITED);

    for (int ask = 1; ask <= ExecutionElement.RESTART_PERMISSION_ASKS; ask++) {
      assertThat(restartAsks.poll(5, java.util.concurrent.TimeUnit.SECONDS)).as("ask " + ask).isNotNull(); // unanswered
      timePasses(ExecutionElement.RESTART_PERMISSION_TIMEOUT);
    }

    assertThat(expectEvent(ProcessEventKind.STOPPED).getDetail()).contains("not restarted: the FTM did not answer");
    assertThat(restartAsks).isEmpty();
    launcher.expectNoLaunch();
  }

  @Test
  void fenced_whenTheFtmAnswersOnlyOnceACutHealed_isRestartedInPlace() throws Exception {
    FakeProcess process = launchAndStart();
    process.exitWith(ExecutionElement.FENCED_STATUS);
    expectEvent(ProcessEventKind.EXITED);
    assertThat(restartAsks.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isNotNull(); // lost in the cut
    timePasses(ExecutionElement.RESTART_PERMISSION_TIMEOUT);

    restartAsks.poll(5, java.util.concurrent.TimeUnit.SECONDS)
        .answer(RestartAnswer.newBuilder().setGranted(true).build());

    assertThat(launcher.nextLaunch()).isNotNull();
  }

  @Test
  void anOrdinaryCrash_isRestartedWithoutAsking() {
    FakeProcess process = launchAndStart();
    crashAndExpectRestartAfter(process, Duration.ZERO);

    assertThat(restartAsks).isEmpty();
  }

  // ---- progress ------------------------------------------------------------------------------------

  @Test
  void progress_workOwedWithoutProgressForTheTimeout_killsReportsHungAndRestarts() {
    FakeProcess process = launchWithProgressTimeout(2000);
    sampler.now = List.of(LISTENER.toBuilder().setReceiveQueue(1).build()); // a connection never accepted

    samplePasses(Duration.ofMillis(400)); // the first sample: owed from here
    samplePasses(Duration.ofMillis(400));
    samplePasses(Duration.ofMillis(400));
    samplePasses(Duration.ofMillis(400));
    samplePasses(Duration.ofMillis(400));
    assertThat(process.kills()).isZero();
    samplePasses(Duration.ofMillis(400)); // 2000 ms owed without progress

    ProcessEvent hung = expectEvent(ProcessEventKind.HUNG);
    assertThat(hung.getPid()).isEqualTo(process.pid());
    assertThat(hung.getDetail()).isEqualTo("no progress: owed work waited (1 connection(s) waiting to be accepted on "
        + "port 7000 for 2000 ms) and no byte written for 2400 ms (progress timeout 2000 ms): killed with SIGKILL, "
        + "restart follows");
    assertThat(process.kills()).isEqualTo(1);
    assertThat(expectEvent(ProcessEventKind.EXITED).getDetail()).startsWith("pid " + process.pid() + " hung: no progress");
    expectEvent(ProcessEventKind.RESTARTING);
    FakeProcess next = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(next.pid());
    samplePasses(Duration.ofMillis(400)); // the new incarnation is watched afresh
    assertThat(sampler.sampled).contains(process.pid(), next.pid());
  }

  @Test
  void progress_anAppThatOwesNothing_isNeverHung() {
    FakeProcess process = launchWithProgressTimeout(2000);
    sampler.now = List.of(LISTENER);

    for (int i = 0; i < 100; i++) {
      samplePasses(Duration.ofMillis(400));
    }

    assertThat(describe().getState()).isEqualTo("RUNNING");
    assertThat(process.kills()).isZero();
    assertThat(sampler.sampled).hasSizeGreaterThan(90);
  }

  @Test
  void progress_samplesThatFail_judgeNothing_andAreLoggedOnce() {
    FakeProcess process = launchWithProgressTimeout(1000);
    sampler.error = "ss: not found";

    LoggingTestKit.warn("cannot sample the sockets of pid " + process.pid()).withOccurrences(1)
        .expect(testKit.system(), () -> {
          for (int i = 0; i < 50; i++) {
            samplePasses(Duration.ofMillis(200));
          }
          return describe();
        });

    assertThat(process.kills()).isZero();
    assertThat(sampler.sampled).hasSizeGreaterThan(40);
  }

  @Test
  void progress_withoutATimeout_takesNoSamples() {
    launchAndStart();

    timePasses(Duration.ofMinutes(1));

    assertThat(sampler.sampled).isEmpty();
  }

  @Test
  void progress_aTimeoutBelowTheMinimum_failsTheLaunchNamingTheSetting() {
    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().setProgressTimeoutMillis(500).build());

    assertThat(reply.getError()).isEqualTo("progress-timeout must be at least 1000 ms (or 0 for off), but was 500 ms");
    launcher.expectNoLaunch();
    assertThat(request(Ops.LAUNCH_PROCESS, launchRequest().setProgressTimeoutMillis(-1).build()).getError())
        .isEqualTo("progress-timeout must not be negative, but was -1 ms");
    launcher.expectNoLaunch();
  }

  @Test
  void progress_onAMachineWithoutTheTool_failsTheLaunchSayingWhy() {
    sampler.unavailable = "the progress watch needs iproute2's ss";

    ArmorMessage reply = request(Ops.LAUNCH_PROCESS, launchRequest().setProgressTimeoutMillis(5000).build());

    assertThat(reply.getError()).isEqualTo("a progress timeout cannot be kept on node node-a: the progress watch needs "
        + "iproute2's ss");
    launcher.expectNoLaunch();
  }

  // ---- describe ------------------------------------------------------------------------------------

  @Test
  void describe_returnsPidStateAndRestarts() {
    FakeProcess first = launchAndStart();
    FakeProcess second = crashAndExpectRestartAfter(first, Duration.ZERO);

    ProcessInfo info = describe();

    assertThat(info)
        .isEqualTo(
            ProcessInfo.newBuilder()
                .setArmorId(armorId)
                .setNode(NODE)
                .addAllCommand(COMMAND)
                .setPid(second.pid())
                .setAlive(true)
                .setRestarts(1)
                .setState("RUNNING")
                .setLogFile(LOG_DIRECTORY.resolve(armorId + ".log").toString())
                .build());
  }

  @Test
  void describe_beforeLaunch_saysNewWithoutPid() {
    ProcessInfo info = describe();

    assertThat(info.getState()).isEqualTo("NEW");
    assertThat(info.getPid()).isZero();
    assertThat(info.getCommandList()).isEmpty();
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static String agentOptions(String armorId) {
    return "-javaagent:/opt/armor/socket-shim.jar=daemon=/run/armor/node-a.sock,armor=" + armorId;
  }

  private LaunchProcess.Builder launchRequest() {
    return LaunchProcess.newBuilder().setArmorId(armorId).setNode(NODE).addAllCommand(COMMAND).setPolicy(POLICY);
  }

  private void launchOk() {
    assertThat(request(Ops.LAUNCH_PROCESS, launchRequest().build()).getError()).isEmpty();
  }

  /** Launches the command and waits for its STARTED event: the process runs. */
  private FakeProcess launchAndStart() {
    launchOk();
    FakeProcess process = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(process.pid());
    return process;
  }

  /** Launches with {@code hangTimeoutMillis} (0: the default) and waits for its STARTED event. */
  private FakeProcess launchAndStart(long hangTimeoutMillis) {
    assertThat(request(Ops.LAUNCH_PROCESS, launchRequest().setHangTimeoutMillis(hangTimeoutMillis).build()).getError())
        .isEmpty();
    FakeProcess process = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(process.pid());
    return process;
  }

  /** Launches with a progress timeout and waits for its STARTED event. */
  private FakeProcess launchWithProgressTimeout(long progressTimeoutMillis) {
    assertThat(request(Ops.LAUNCH_PROCESS, launchRequest().setProgressTimeoutMillis(progressTimeoutMillis).build())
        .getError()).isEmpty();
    FakeProcess process = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(process.pid());
    return process;
  }

  private static final AppSocket LISTENER =
      AppSocket.newBuilder().setInode(1).setListening(true).setState("LISTEN").setLocalPort(7000).build();

  /** Answers every sample at once with {@link #now} (or {@link #error}), recording whose. */
  private static final class FakeSampler implements AppSocketSampler {
    volatile List<AppSocket> now = List.of();
    volatile String error = "";
    volatile String unavailable;
    final List<Long> sampled = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public Optional<String> unavailable() {
      return Optional.ofNullable(unavailable);
    }

    @Override
    public CompletionStage<AppSockets> sample(long pid) {
      sampled.add(pid);
      return CompletableFuture.completedFuture(
          AppSockets.newBuilder().setPid(pid).addAllSockets(error.isEmpty() ? now : List.of()).setError(error).build());
    }
  }

  /** Delivers a heartbeat of {@code pid}, as the shim endpoint does, and waits until the ARMOR handled it. */
  private void beat(long pid) {
    armor.tell(new ArmorActor.Deliver(Armors.message("daemon@" + NODE, armorId, Ops.PROCESS_HEARTBEAT,
        ProcessHeartbeat.newBuilder().setPid(pid).setBeat(1).build()), null));
    describe();
  }

  /**
   * Makes {@code process} exit quickly with status 1 and expects the restart after exactly {@code backoff}: no
   * launch a millisecond before, the new process and its STARTED event at the time.
   */
  private FakeProcess crashAndExpectRestartAfter(FakeProcess process, Duration backoff) {
    process.exitWith(1);
    assertThat(expectEvent(ProcessEventKind.EXITED).getPid()).isEqualTo(process.pid());
    assertThat(expectEvent(ProcessEventKind.RESTARTING).getDetail()).isEqualTo("restart in " + backoff.toMillis() + " ms");
    if (!backoff.isZero()) {
      describe(); // the reply comes after the exit was handled: the restart timer is set
      timePasses(backoff.minusMillis(1));
      assertThat(describe().getState()).isEqualTo("RESTARTING"); // and a timer that fired early has been handled
      launcher.expectNoLaunch();
      timePasses(Duration.ofMillis(1));
    }
    FakeProcess next = launcher.nextLaunch().process();
    assertThat(expectEvent(ProcessEventKind.STARTED).getPid()).isEqualTo(next.pid());
    return next;
  }

  /** Sends a one-operation request to the ARMOR and returns its reply. */
  private ArmorMessage request(String type, Message argument) {
    armor.tell(new ArmorActor.Deliver(Armors.message("test", armorId, type, argument), requester.ref()));
    return requester.receiveMessage();
  }

  private ProcessInfo describe() {
    ArmorMessage reply = request(Ops.DESCRIBE_PROCESS, ProcessEvent.getDefaultInstance());
    assertThat(reply.getError()).isEmpty();
    return Ops.unpack(reply.getPayload(), ProcessInfo.class);
  }

  /** The next message to the FTM, which must be a process event of {@code kind}. */
  private ProcessEvent expectEvent(ProcessEventKind kind) {
    ArmorMessage message = ftm.receiveMessage();
    assertThat(message.getFrom()).isEqualTo(armorId);
    assertThat(message.getBundlesCount()).isEqualTo(1);
    Operation operation = message.getBundles(0).getOperations(0);
    assertThat(operation.getType()).isEqualTo(Ops.PROCESS_EVENT);
    ProcessEvent event = Ops.argument(operation, ProcessEvent.class);
    assertThat(event.getKind()).as("kind of %s", event).isEqualTo(kind);
    return event;
  }

  /**
   * Moves time on by a sample interval and waits until the sample it triggered was judged (and the next one
   * scheduled): the check, then the sample piped back to the ARMOR, each behind one request.
   */
  private void samplePasses(Duration interval) {
    timePasses(interval);
    describe();
    describe();
  }

  /** Moves the ARMOR's clock and Pekko's timers on together. */
  private void timePasses(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
  }

  /** The ARMOR's clock, moved by the test only. */
  private static final class TestClock implements ArmorClock {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000_000L);
    private final AtomicLong millis = new AtomicLong(1_790_000_000_000L);

    void advance(Duration duration) {
      nanos.addAndGet(duration.toNanos());
      millis.addAndGet(duration.toMillis());
    }

    @Override
    public long nanoTime() {
      return nanos.get();
    }

    @Override
    public long currentTimeMillis() {
      return millis.get();
    }
  }
}
