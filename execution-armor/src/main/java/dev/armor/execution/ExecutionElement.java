package dev.armor.execution;

import dev.armor.elements.ArmorIds;
import dev.armor.elements.Element;
import dev.armor.elements.ElementContext;
import dev.armor.elements.Ops;
import dev.armor.elements.ProgressTimeout;
import dev.armor.elements.wire.AppSockets;
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
import com.google.protobuf.Empty;
import dev.armor.execution.progress.AppSocketSampler;
import dev.armor.execution.progress.ProgressWatch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The Execution ARMOR's element: one protected process, its restarts, and its events.
 *
 * <p>Design note. The process's exit comes back to the ARMOR as a {@code execution.exited} operation (piped from
 * {@link ProcessLauncher.Launched#exit()}), so a crash is seen the moment the JDK reaps the process, with no
 * polling. Each state change goes through {@link #transitionTo}, which checks it is legal and logs it. Every
 * event is sent to the FTM, whose APP_SERVER_DB holds the clients while the process is down.
 *
 * <p>Hangs. A process can stop without exiting (SIGSTOP, a frozen cgroup, a machine swapping to death): its shim's
 * heartbeats, forwarded by the daemon as {@code execution.heartbeat}, stop. Once the process has beaten once, a
 * timer ({@code execution.hang_check}, set for when the silence would reach the hang timeout) checks the time since
 * the last beat; at the hang timeout the process is declared hung, killed with SIGKILL (a stopped process can still
 * be killed, and must never resume and write next to its replacement), reported HUNG to the FTM, and its exit is
 * then handled as a crash: the restart policy restarts it and its clients re-attach. A process that never beats
 * (no shim, an agent that failed to start) is never declared hung: only its exit is watched. What is detected is a
 * whole process that stopped running, not an app whose own threads deadlocked while the shim's thread still beats.
 *
 * <p>Progress. For that, a launch with a progress timeout ({@code armor run --progress-timeout}) has its sockets
 * sampled ({@code execution.progress_check}, a fifth of the timeout apart, the sample taken off this thread and
 * returned as {@code execution.progress_sampled}) and judged by a {@link ProgressWatch}: work owed and no progress
 * for the timeout is a hang, handled as a silent one is.
 *
 * <p>Fenced exits and the ARMOR's own pauses. An app whose shim found its daemon gone or frozen halts itself (status
 * 86); the cluster may have moved its work meanwhile, so it is restarted only if the FTM says the work is still this
 * ARMOR's ({@code ftm.may_restart}), and no answer is a no. A hang check that runs far later than due means this ARMOR
 * itself stood still (its daemon frozen): the app is watched afresh rather than taken for hung.
 */
public final class ExecutionElement implements Element {

  public static final String NAME = "EXECUTION";

  /** The protected process's lifecycle. */
  public enum State {
    /** Installed, not launched yet. */
    NEW,
    /** The process runs. */
    RUNNING,
    /** The process died; the restart waits out its backoff. */
    RESTARTING,
    /** The operator asked it to stop; waiting for the exit. */
    STOPPING,
    /** The restart policy gave up, or the command cannot start: the service is reported failed. */
    GAVE_UP,
    /** It exited normally or was stopped: no restart. */
    STOPPED;

    boolean canBecome(State next) {
      return switch (this) {
        case NEW -> next == RUNNING || next == GAVE_UP;
        case RUNNING -> next == RESTARTING || next == GAVE_UP || next == STOPPED || next == STOPPING;
        case RESTARTING -> next == RUNNING || next == GAVE_UP || next == STOPPED || next == RESTARTING;
        case STOPPING -> next == STOPPED;
        case GAVE_UP, STOPPED -> false;
      };
    }
  }

  public static final RestartPolicy DEFAULT_POLICY =
      RestartPolicy.newBuilder()
          .setMaxRestarts(10)
          .setWindowMillis(60_000)
          .setInitialBackoffMillis(250)
          .setMaxBackoffMillis(5_000)
          .build();

  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  /**
   * How long a fenced app's restart waits for the FTM's word. The FTM answers at once when it is reachable; a node
   * cut off or being downed gets no answer, and asks again (below).
   */
  static final Duration RESTART_PERMISSION_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How often a fenced app's restart is asked before no answer counts as a no (30 s in all). A node whose lease ran
   * out during a short cut gets its answer once the cut heals (the work is still its own: a yes); a node declared lost
   * meanwhile stops with its daemon before then; one still cut off after that restarts nothing.
   */
  static final int RESTART_PERMISSION_ASKS = 6;

  /** The reason of the answer made up when the FTM did not answer: asked again while asks remain. */
  private static final String NO_ANSWER = "the FTM did not answer within ";

  /**
   * A hang check this much later than due means the ARMOR itself did not run (a frozen daemon, a GC pause): timers on
   * a loaded host are late by milliseconds, not seconds.
   */
  static final Duration PAUSE_TOLERANCE = Duration.ofSeconds(1);

  /**
   * Three seconds of silence: six missed beats at the default 500 ms heartbeat, so a loaded machine or a GC pause
   * of a small heap is not taken for a hang, yet a hung server costs its clients little more than a crash does;
   * raise it ({@code armor run --hang-timeout}) for apps with long stop-the-world pauses.
   */
  public static final Duration DEFAULT_HANG_TIMEOUT = Duration.ofSeconds(3);

  private static final String HANG_TIMER = "hang-check";
  private static final String PROGRESS_TIMER = "progress-check";

  /** The status a protected app's shim halts with when it fences itself (the shim's {@code Fence.HALT_STATUS}). */
  static final int FENCED_STATUS = 86;

  private final String node;
  private final ProcessLauncher launcher;
  private final Path logDirectory;
  private final Function<String, String> agentOptions;
  private final Duration defaultHangTimeout;
  private final AppSocketSampler sampler;

  private State state = State.NEW;
  private LaunchProcess spec;
  private RestartBudget budget;
  private ProcessLauncher.Launched process;
  private long startedAtNanos;
  private long exitedAtNanos;
  private long detectedAtNanos; // the exit, or the hang detection before it
  private String detected = "crash"; // what detectedAtNanos saw: "crash" or "hang"
  private int restarts;

  // Hang detection, per incarnation (reset at each start).
  private long hangTimeoutNanos;
  private long heartbeatPid; // the pid whose beats count: the launched process or its descendant; 0 before any
  private boolean beating; // the process has beaten since it started: the hang check is armed
  private long lastBeatNanos;
  private long hangCheckDueNanos; // when the pending hang check is due: a check far later means the ARMOR was paused
  private long hungAtNanos; // when it was declared hung, or 0: its exit is then the hang's, not a crash's
  private String hungWhy = "";

  // A fenced exit waiting for the FTM's word on a restart (askToRestart).
  private ProcessEvent fencedExit;
  private String fencedCrash = "";
  private int restartAsks;

  // The progress watch, per incarnation; null when the launch has no progress timeout.
  private Duration progressTimeout = Duration.ZERO;
  private ProgressWatch progress;
  private boolean sampleFailureLogged;

  /**
   * @param agentOptions given the ARMOR id, the JVM options that load the shim wired to this node's daemon
   */
  public ExecutionElement(String node, ProcessLauncher launcher, Path logDirectory, Function<String, String> agentOptions) {
    this(node, launcher, logDirectory, agentOptions, DEFAULT_HANG_TIMEOUT);
  }

  /**
   * @param defaultHangTimeout the daemon's hang timeout, for launches that do not set their own
   */
  public ExecutionElement(String node, ProcessLauncher launcher, Path logDirectory, Function<String, String> agentOptions,
      Duration defaultHangTimeout) {
    this(node, launcher, logDirectory, agentOptions, defaultHangTimeout, AppSocketSampler.SYSTEM);
  }

  /**
   * @param sampler takes the samples of the process's sockets that launches with a progress timeout are judged by
   */
  public ExecutionElement(String node, ProcessLauncher launcher, Path logDirectory, Function<String, String> agentOptions,
      Duration defaultHangTimeout, AppSocketSampler sampler) {
    if (defaultHangTimeout.isNegative() || defaultHangTimeout.isZero()) {
      throw new IllegalArgumentException("hang-timeout must be positive, but was " + defaultHangTimeout);
    }
    this.node = node;
    this.launcher = launcher;
    this.logDirectory = logDirectory;
    this.agentOptions = agentOptions;
    this.defaultHangTimeout = defaultHangTimeout;
    this.sampler = sampler;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> subscriptions() {
    return Set.of(Ops.LAUNCH_PROCESS, Ops.PROCESS_EXITED, Ops.RESTART_DUE, Ops.STOP_PROCESS, Ops.DESCRIBE_PROCESS,
        Ops.PROCESS_HEARTBEAT, Ops.HANG_CHECK, Ops.PROGRESS_CHECK, Ops.PROGRESS_SAMPLED, Ops.RESTART_ANSWERED);
  }

  public State state() {
    return state;
  }

  @Override
  public void handle(Operation operation, ElementContext context) {
    switch (operation.getType()) {
      case Ops.LAUNCH_PROCESS -> onLaunch(Ops.argument(operation, LaunchProcess.class), context);
      case Ops.PROCESS_EXITED -> onExited(Ops.argument(operation, ProcessEvent.class), context);
      case Ops.RESTART_DUE -> onRestartDue(context);
      case Ops.STOP_PROCESS -> onStop(context);
      case Ops.DESCRIBE_PROCESS -> context.setPayload(describe(context));
      case Ops.PROCESS_HEARTBEAT -> onHeartbeat(Ops.argument(operation, ProcessHeartbeat.class), context);
      case Ops.HANG_CHECK -> onHangCheck(context);
      case Ops.PROGRESS_CHECK -> onProgressCheck(context);
      case Ops.PROGRESS_SAMPLED -> onProgressSampled(Ops.argument(operation, AppSockets.class), context);
      case Ops.RESTART_ANSWERED -> onRestartAnswered(Ops.argument(operation, RestartAnswer.class), context);
      default -> throw new IllegalStateException("unexpected operation " + operation.getType());
    }
  }

  /**
   * The ARMOR is going away (its daemon stops or is being killed): its process must not live on as an orphan, so it
   * is killed at once (SIGKILL) rather than asked to stop with a grace. Why no grace: the grace's SIGKILL would be
   * sent by a thread of this very JVM, which is exiting and would not be there to send it, so an app that ignores
   * SIGTERM would survive; and once this daemon is gone the cluster may start the work elsewhere, where a copy
   * still finishing its shutdown here could act next to its replacement. An operator's {@code armor stop} still
   * gets the grace (see {@link #onStop}); the app's shim fences itself anyway if this kill never happens.
   */
  @Override
  public void stopped() {
    if (process != null && process.isAlive()) {
      process.kill();
    }
  }

  private void onLaunch(LaunchProcess launch, ElementContext context) {
    if (state != State.NEW) {
      context.fail("ARMOR " + context.armorId() + " already launched its process (state " + state + ")");
      return;
    }
    if (launch.getCommandCount() == 0) {
      context.fail("the command to launch is empty");
      return;
    }
    RestartPolicy policy = withDefaults(launch);
    try {
      budget =
          new RestartBudget(
              policy.getMaxRestarts(),
              Duration.ofMillis(policy.getWindowMillis()),
              Duration.ofMillis(policy.getInitialBackoffMillis()),
              Duration.ofMillis(policy.getMaxBackoffMillis()));
    } catch (IllegalArgumentException e) {
      context.fail(e.getMessage());
      return;
    }
    if (launch.getHangTimeoutMillis() < 0) {
      context.fail("hang-timeout must be positive (or 0 for the daemon's default), but was "
          + launch.getHangTimeoutMillis() + " ms");
      return;
    }
    hangTimeoutNanos = launch.getHangTimeoutMillis() == 0
        ? defaultHangTimeout.toNanos()
        : Duration.ofMillis(launch.getHangTimeoutMillis()).toNanos();
    progressTimeout = Duration.ofMillis(launch.getProgressTimeoutMillis());
    Optional<String> invalid = ProgressTimeout.invalid("progress-timeout", progressTimeout);
    if (invalid.isEmpty() && !progressTimeout.isZero()) {
      invalid = sampler.unavailable().map(why -> "a progress timeout cannot be kept on node " + node + ": " + why);
    }
    if (invalid.isPresent()) {
      context.fail(invalid.get());
      return;
    }
    spec = launch;
    try {
      start(context);
    } catch (IOException e) {
      transitionTo(State.GAVE_UP, context, "the command cannot start: " + e.getMessage());
      report(context, ProcessEventKind.GAVE_UP, 0, 0, "the command cannot start: " + e.getMessage());
      context.fail("cannot start " + String.join(" ", launch.getCommandList()) + ": " + e.getMessage());
      return;
    }
    context.setPayload(
        ProcessLaunched.newBuilder()
            .setArmorId(context.armorId())
            .setNode(node)
            .setPid(process.pid())
            .setLogFile(logFile(context).toString())
            .build());
  }

  /**
   * The launch's restart policy, a field left unset (zero) taking its default; max-restarts 0 is kept as given
   * only when the whole policy was set ("never restart").
   */
  static RestartPolicy withDefaults(LaunchProcess launch) {
    if (!launch.hasPolicy()) {
      return DEFAULT_POLICY;
    }
    RestartPolicy given = launch.getPolicy();
    RestartPolicy.Builder policy = given.toBuilder();
    if (given.getWindowMillis() == 0) {
      policy.setWindowMillis(DEFAULT_POLICY.getWindowMillis());
    }
    if (given.getInitialBackoffMillis() == 0 && given.getMaxBackoffMillis() == 0) {
      policy.setInitialBackoffMillis(DEFAULT_POLICY.getInitialBackoffMillis())
          .setMaxBackoffMillis(DEFAULT_POLICY.getMaxBackoffMillis());
    }
    return policy.build();
  }

  private void start(ElementContext context) throws IOException {
    Map<String, String> environment = new HashMap<>(spec.getEnvironmentMap());
    String inherited = environment.getOrDefault("JAVA_TOOL_OPTIONS", "");
    List<String> command = RunAs.command(spec.getUser(), spec.getCommandList());
    String shim;
    try {
      shim = agentOptions.apply(context.armorId());
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause(); // the shim's socket for the app's user could not be made
    }
    environment.put("JAVA_TOOL_OPTIONS", inherited.isBlank() ? shim : shim + " " + inherited);
    environment.put("ARMOR_ARMOR_ID", context.armorId());
    Path workingDirectory = spec.getWorkingDirectory().isEmpty() ? null : Path.of(spec.getWorkingDirectory());
    process = launcher.launch(command, environment, workingDirectory, logFile(context));
    startedAtNanos = context.nanoTime();
    context.cancelTimer(HANG_TIMER);
    heartbeatPid = 0;
    beating = false;
    hungAtNanos = 0;
    hungWhy = "";
    context.cancelTimer(PROGRESS_TIMER);
    if (!progressTimeout.isZero()) {
      progress = new ProgressWatch(progressTimeout, startedAtNanos);
      sampleFailureLogged = false;
      context.scheduleToSelf(PROGRESS_TIMER, ProgressTimeout.sampleInterval(progressTimeout), Ops.PROGRESS_CHECK,
          Empty.getDefaultInstance());
    }
    long pid = process.pid();
    context.pipeToSelf(
        process.exit(),
        (status, failure) ->
            Ops.of(
                Ops.PROCESS_EXITED,
                ProcessEvent.newBuilder().setPid(pid).setExitCode(status == null ? -1 : status).build()));
    String detail = (restarts == 0 ? "started" : "restarted (restart " + restarts + ")")
        + (RunAs.isOtherUser(spec.getUser()) ? " as user " + spec.getUser() : "");
    transitionTo(State.RUNNING, context, detail + ", pid " + pid);
    report(context, ProcessEventKind.STARTED, pid, 0, detail + ": " + String.join(" ", spec.getCommandList()));
  }

  private void onExited(ProcessEvent exit, ElementContext context) {
    if (process == null || exit.getPid() != process.pid()) {
      return; // an earlier incarnation's exit, already handled
    }
    exitedAtNanos = context.nanoTime();
    detectedAtNanos = hungAtNanos != 0 ? hungAtNanos : exitedAtNanos;
    detected = hungAtNanos != 0 ? "hang" : "crash";
    long ranMillis = (exitedAtNanos - startedAtNanos) / 1_000_000;
    String how = describeExit(exit.getExitCode());
    if (state == State.STOPPING || exit.getExitCode() == 0) {
      String detail = (state == State.STOPPING ? "stopped by the operator" : "exited normally") + " after " + ranMillis + " ms";
      transitionTo(State.STOPPED, context, "pid " + exit.getPid() + " " + detail);
      report(context, ProcessEventKind.STOPPED, exit.getPid(), exit.getExitCode(), detail);
      return;
    }
    context.cancelTimer(HANG_TIMER);
    context.cancelTimer(PROGRESS_TIMER);
    String crash = hungAtNanos != 0
        ? "pid " + exit.getPid() + " hung: " + hungWhy + "; it " + how + " after running " + ranMillis + " ms"
        : "pid " + exit.getPid() + " " + how + " after " + ranMillis + " ms";
    report(context, ProcessEventKind.EXITED, exit.getPid(), exit.getExitCode(), crash);
    if (exit.getExitCode() == FENCED_STATUS) { // halted itself, whether or not it was declared hung first
      askToRestart(exit, crash, context);
      return;
    }
    restartOrGiveUp(exit, crash, context);
  }

  /**
   * The app halted itself because its daemon was gone or frozen (its shim's lease ran out). Long enough a silence,
   * and the cluster declared this node lost and moved its work: restarting it here would make two instances. So the
   * FTM, which holds where each ARMOR's work runs, is asked first; no answer (this node cut off, or being downed)
   * is a no.
   */
  private void askToRestart(ProcessEvent exit, String crash, ElementContext context) {
    transitionTo(State.RESTARTING, context, crash + "; asking the FTM whether its work is still this node's");
    restartAsks = 0;
    fencedExit = exit;
    fencedCrash = crash;
    askRestartPermission(exit.getPid(), context);
  }

  private void askRestartPermission(long pid, ElementContext context) {
    restartAsks++;
    context.pipeToSelf(
        context.ask(ArmorIds.FTM, Ops.MAY_RESTART,
            RestartPermission.newBuilder().setArmorId(context.armorId()).setNode(node).setPid(pid).build(),
            RESTART_PERMISSION_TIMEOUT),
        (reply, failure) -> {
          RestartAnswer answer;
          if (failure != null || !reply.getError().isEmpty()) {
            answer = RestartAnswer.newBuilder().setPid(pid).setReason(NO_ANSWER
                + RESTART_PERMISSION_TIMEOUT.toSeconds() + " s ("
                + (failure != null ? failure.getMessage() : reply.getError()) + ")").build();
          } else {
            answer = Ops.unpack(reply.getPayload(), RestartAnswer.class).toBuilder().setPid(pid).build();
          }
          return Ops.of(Ops.RESTART_ANSWERED, answer);
        });
  }

  private void onRestartAnswered(RestartAnswer answer, ElementContext context) {
    if (state != State.RESTARTING || process == null || answer.getPid() != process.pid()) {
      return; // stopped meanwhile, or an earlier incarnation's
    }
    ProcessEvent exit = fencedExit;
    String crash = fencedCrash;
    if (!answer.getGranted() && answer.getReason().startsWith(NO_ANSWER) && restartAsks < RESTART_PERMISSION_ASKS) {
      context.log().info("Execution ARMOR {}: {}; asking again ({} of {})", context.armorId(), answer.getReason(),
          restartAsks + 1, RESTART_PERMISSION_ASKS);
      askRestartPermission(answer.getPid(), context);
      return;
    }
    if (answer.getGranted()) {
      context.log().info("Execution ARMOR {}: the FTM says its work is still this node's: restarting it",
          context.armorId());
      restartOrGiveUp(exit, crash, context);
      return;
    }
    String why = crash + "; not restarted: " + answer.getReason();
    transitionTo(State.STOPPED, context, why);
    report(context, ProcessEventKind.STOPPED, exit.getPid(), exit.getExitCode(), why);
  }

  private void restartOrGiveUp(ProcessEvent exit, String crash, ElementContext context) {
    RestartBudget.Decision decision = budget.onExit(exitedAtNanos, exitedAtNanos - startedAtNanos);
    if (decision instanceof RestartBudget.Decision.RestartAfter restart) {
      transitionTo(State.RESTARTING, context, crash + "; restart " + restart.restartsInWindow() + " in "
          + restart.delay().toMillis() + " ms");
      report(context, ProcessEventKind.RESTARTING, exit.getPid(), exit.getExitCode(),
          "restart in " + restart.delay().toMillis() + " ms");
      if (restart.delay().isZero()) {
        context.push(Ops.RESTART_DUE, ProcessEvent.getDefaultInstance());
      } else {
        context.scheduleToSelf("restart", restart.delay(), Ops.RESTART_DUE, ProcessEvent.getDefaultInstance());
      }
    } else {
      String why = crash + "; gave up after " + ((RestartBudget.Decision.GiveUp) decision).restartsInWindow()
          + " restarts within " + budgetWindowMillis() + " ms";
      transitionTo(State.GAVE_UP, context, why);
      report(context, ProcessEventKind.GAVE_UP, exit.getPid(), exit.getExitCode(), why);
    }
  }

  private void onRestartDue(ElementContext context) {
    if (state != State.RESTARTING) {
      return;
    }
    restarts++;
    try {
      start(context);
      context.log().info("{}: restarted {} ms after the {} was detected", context.armorId(),
          (context.nanoTime() - detectedAtNanos) / 1_000_000, detected);
    } catch (IOException e) {
      String why = "restart " + restarts + " failed: the command cannot start: " + e.getMessage();
      // A start failure counts against the budget like a crash.
      if (budget.onExit(context.nanoTime(), 0) instanceof RestartBudget.Decision.RestartAfter again) {
        transitionTo(State.RESTARTING, context, why);
        context.scheduleToSelf("restart", again.delay().isZero() ? Duration.ofMillis(100) : again.delay(),
            Ops.RESTART_DUE, ProcessEvent.getDefaultInstance());
      } else {
        transitionTo(State.GAVE_UP, context, why);
        report(context, ProcessEventKind.GAVE_UP, 0, 0, why);
      }
    }
  }

  private void onStop(ElementContext context) {
    switch (state) {
      case RUNNING -> {
        context.cancelTimer(HANG_TIMER);
        context.cancelTimer(PROGRESS_TIMER);
        transitionTo(State.STOPPING, context, "stop requested");
        process.stop(STOP_GRACE);
      }
      case RESTARTING -> {
        context.cancelTimer("restart");
        transitionTo(State.STOPPED, context, "stop requested while restarting");
        report(context, ProcessEventKind.STOPPED, 0, 0, "stopped by the operator");
      }
      default -> { }
    }
  }

  /** A beat of the current process (or of its descendant JVM) renews it; the first one arms the hang check. */
  private void onHeartbeat(ProcessHeartbeat beat, ElementContext context) {
    if (state != State.RUNNING || hungAtNanos != 0) {
      return; // stopping, restarting, or already declared hung: a late beat changes nothing
    }
    if (beat.getPid() != heartbeatPid) {
      if (!process.runs(beat.getPid())) {
        return; // an earlier incarnation's beat, still in flight
      }
      heartbeatPid = beat.getPid();
    }
    lastBeatNanos = context.nanoTime();
    if (!beating) {
      beating = true;
      context.log().info("Execution ARMOR {}: first heartbeat from pid {} {} ms after the start; it is declared hung "
              + "if silent for {} ms", context.armorId(), beat.getPid(), (lastBeatNanos - startedAtNanos) / 1_000_000,
          hangTimeoutNanos / 1_000_000);
      scheduleHangCheck(context, hangTimeoutNanos);
    }
  }

  /**
   * The timer fires when the silence would reach the hang timeout if no beat came meanwhile: one timer per
   * timeout, not one per beat. A beat that came meanwhile moves the next check on.
   */
  private void onHangCheck(ElementContext context) {
    if (state != State.RUNNING || !beating || hungAtNanos != 0) {
      return;
    }
    long now = context.nanoTime();
    long late = now - hangCheckDueNanos;
    if (late > PAUSE_TOLERANCE.toNanos()) {
      // The check comes this late only if this ARMOR itself stood still (its daemon frozen, a long GC pause): the
      // beats that came meanwhile were not read either, so the silence is this ARMOR's, not the app's.
      context.log().warn("Execution ARMOR {}: its hang check ran {} ms late: the ARMOR itself was paused, so the app's "
          + "silence is not held against it; watching it afresh", context.armorId(), late / 1_000_000);
      lastBeatNanos = now;
      scheduleHangCheck(context, hangTimeoutNanos);
      return;
    }
    long silence = now - lastBeatNanos;
    if (silence < hangTimeoutNanos) {
      scheduleHangCheck(context, hangTimeoutNanos - silence);
      return;
    }
    declareHung(context, now, "no heartbeat from pid " + heartbeatPid + " for " + silence / 1_000_000
        + " ms (hang timeout " + hangTimeoutNanos / 1_000_000 + " ms)");
  }

  /**
   * Kills the hung process with SIGKILL (a stopped or stuck copy must never resume and write next to its
   * replacement); its exit is then handled as a crash's, reported as the hang's.
   */
  private void declareHung(ElementContext context, long now, String why) {
    hungAtNanos = now;
    hungWhy = why;
    context.cancelTimer(HANG_TIMER);
    context.cancelTimer(PROGRESS_TIMER);
    long pid = process.pid();
    context.log().warn("Execution ARMOR {}: the process is hung: {}; killing pid {} with SIGKILL so the stuck copy "
        + "can never resume, then restarting it as after a crash", context.armorId(), why, pid);
    process.kill();
    report(context, ProcessEventKind.HUNG, pid, 0, why + ": killed with SIGKILL, restart follows");
  }

  /** Time for a sample: taken off this thread, it comes back as {@code execution.progress_sampled}. */
  private void onProgressCheck(ElementContext context) {
    if (state != State.RUNNING || hungAtNanos != 0 || progress == null) {
      return;
    }
    long pid = process.pid();
    context.pipeToSelf(sampler.sample(pid), (sample, failure) -> Ops.of(Ops.PROGRESS_SAMPLED, failure == null
        ? sample
        : AppSockets.newBuilder().setPid(pid).setError(String.valueOf(failure.getMessage())).build()));
  }

  /** A sample of the current incarnation is judged, and the next one scheduled (one sample at a time). */
  private void onProgressSampled(AppSockets sample, ElementContext context) {
    if (state != State.RUNNING || hungAtNanos != 0 || progress == null || sample.getPid() != process.pid()) {
      return; // stopping, restarting, already hung, or an earlier incarnation's sample
    }
    if (!sample.getError().isEmpty()) {
      if (!sampleFailureLogged) { // once per incarnation: a failing tool must not storm the log
        sampleFailureLogged = true;
        context.log().warn("Execution ARMOR {}: cannot sample the sockets of pid {} for the progress watch ({}); "
            + "it is not judged while samples fail", context.armorId(), sample.getPid(), sample.getError());
      }
    } else {
      long now = context.nanoTime();
      Optional<String> hung = progress.observe(now, sample.getSocketsList());
      if (hung.isPresent()) {
        declareHung(context, now, hung.get());
        return;
      }
    }
    context.scheduleToSelf(PROGRESS_TIMER, ProgressTimeout.sampleInterval(progressTimeout), Ops.PROGRESS_CHECK,
        Empty.getDefaultInstance());
  }

  private void scheduleHangCheck(ElementContext context, long delayNanos) {
    hangCheckDueNanos = context.nanoTime() + delayNanos;
    context.scheduleToSelf(HANG_TIMER, Duration.ofNanos(delayNanos), Ops.HANG_CHECK, Empty.getDefaultInstance());
  }

  private ProcessInfo describe(ElementContext context) {
    ProcessInfo.Builder info =
        ProcessInfo.newBuilder()
            .setArmorId(context.armorId())
            .setNode(node)
            .setState(state.name())
            .setRestarts(restarts)
            .setLogFile(logFile(context).toString());
    if (spec != null) {
      info.addAllCommand(spec.getCommandList());
    }
    if (process != null) {
      info.setPid(process.pid()).setAlive(process.isAlive());
    }
    return info.build();
  }

  private void transitionTo(State next, ElementContext context, String reason) {
    if (!state.canBecome(next)) {
      throw new IllegalStateException(
          "Execution ARMOR " + context.armorId() + " cannot go from " + state + " to " + next + " (" + reason + ")");
    }
    context.log().info("Execution ARMOR {}: {} -> {}: {}", context.armorId(), state, next, reason);
    state = next;
  }

  private void report(ElementContext context, ProcessEventKind kind, long pid, int exitCode, String detail) {
    context.send(
        ArmorIds.FTM,
        Ops.PROCESS_EVENT,
        ProcessEvent.newBuilder()
            .setArmorId(context.armorId())
            .setNode(node)
            .setKind(kind)
            .setPid(pid)
            .setExitCode(exitCode)
            .setAtMillis(context.currentTimeMillis())
            .setRestarts(restarts)
            .setDetail(detail)
            .build());
  }

  private long budgetWindowMillis() {
    return withDefaults(spec).getWindowMillis();
  }

  private Path logFile(ElementContext context) {
    return logDirectory.resolve(context.armorId() + ".log");
  }

  /** An exit status in an operator's words. */
  static String describeExit(int status) {
    if (status > 128 && status < 160) {
      int signal = status - 128;
      String name = switch (signal) {
        case 9 -> "SIGKILL";
        case 15 -> "SIGTERM";
        case 6 -> "SIGABRT";
        case 11 -> "SIGSEGV";
        case 2 -> "SIGINT";
        default -> "signal " + signal;
      };
      return "was killed by " + name + " (exit status " + status + ")";
    }
    if (status == FENCED_STATUS) {
      return "halted itself (exit status 86: its shim found the daemon gone)";
    }
    return "exited with status " + status;
  }

  /** The commands, for tests. */
  List<String> command() {
    return spec == null ? List.of() : spec.getCommandList();
  }
}
