package dev.armor.daemon;

import com.google.protobuf.Empty;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Bundle;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ProcessLaunched;
import dev.armor.execution.ExecutionElement;
import dev.armor.execution.ProcessLauncher;
import dev.armor.execution.RestartBudget;
import dev.armor.execution.process.ArmorChannel;
import dev.armor.execution.process.ExecutionArmorMain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Execution ARMORs of this node: installs them (in the daemon, or each as a process of its own), heartbeats
 * them, and reinstalls a process-mode ARMOR whose process died or hung.
 *
 * <p>Design note. All state lives on one thread (a single-threaded scheduler): installs, deliveries to ARMOR
 * processes, channel events, process exits and heartbeat ticks are all submitted to it, so each ARMOR's state
 * machine ({@link ArmorProcess.State}) changes in one place, through {@code transitionTo}, which logs. A
 * process-mode ARMOR is represented in the daemon's router by a small proxy actor that hands its messages to
 * this class; requests crossing the channel keep their {@code replyTo} here, matched by the channel's request ids.
 *
 * <p>Recovery of a dead ARMOR process: the process's exit is seen at once ({@link Process#onExit}); a hung one
 * (silent past the heartbeat timeout) is killed first. The app it protected is killed too (its pid is known from
 * the ARMOR's own reports, which pass through here, and from the process table) and must be gone before a new
 * ARMOR process starts with the same ARMOR id and the launch spec kept here; the new ARMOR launches the app, whose
 * service registers again under the same ARMOR id: APP_SERVER_DB treats that as a recovery.
 */
final class LocalArmors implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LocalArmors.class);

  /**
   * JVM options of an ARMOR process, chosen for a fast start and a small footprint (measured in
   * docs/ARCHITECTURE.md): C1 only, serial GC, a small heap; class-data sharing stays on (the default archive).
   */
  static final List<String> ARMOR_JVM_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms16m", "-Xmx64m", "-Xss512k", "-Xshare:auto");
  /** An ARMOR process that has not said HELLO by then is hung in its start: killed and started again. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  /** How long the daemon waits for a dead ARMOR's orphaned app to go, after SIGKILL. */
  private static final Duration ORPHAN_KILL_WAIT = Duration.ofSeconds(5);
  /** Requests from an ARMOR process to the rest of the system wait at most this long for an answer. */
  private static final Duration FORWARDED_REQUEST_TIMEOUT = Duration.ofMinutes(5);
  private static final int MAX_QUEUED = 10_000;

  private final DaemonSettings settings;
  private final UserShimSockets userSockets;
  private final ActorSystem<Void> system;
  private final DaemonRouter router;
  private final ActorRef<ArmorActor.Command> gateway;
  private final String gatewayId;
  private final ArmorClock clock;
  private final ScheduledExecutorService executor;
  private final Map<String, InDaemonArmor> inDaemon = new ConcurrentHashMap<>();
  private final Map<String, ArmorProcess> processes = new ConcurrentHashMap<>();
  private ArmorChannelServer channelServer;
  /** The class-data archive ARMOR processes start with, once the training run made it (null before). */
  private volatile Path classDataArchive;
  private volatile boolean closing;

  LocalArmors(DaemonSettings settings, ActorSystem<Void> system, DaemonRouter router,
      ActorRef<ArmorActor.Command> gateway, String gatewayId, ArmorClock clock, UserShimSockets userSockets) {
    this.settings = settings;
    this.userSockets = userSockets;
    this.system = system;
    this.router = router;
    this.gateway = gateway;
    this.gatewayId = gatewayId;
    this.clock = clock;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "armor-local-armors");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Starts the heartbeats and, in process mode, the ARMOR processes' socket. */
  void start() throws IOException {
    if (settings.executionArmors().mode() == DaemonSettings.ExecutionArmors.Mode.PROCESS) {
      channelServer = ArmorChannelServer.start(settings.armorSocket(), new ChannelEvents());
      Thread training = new Thread(this::trainClassDataArchive, "armor-process-class-data");
      training.setDaemon(true);
      training.start();
    }
    long interval = settings.executionArmors().heartbeat().toMillis();
    executor.scheduleAtFixedRate(this::heartbeat, interval, interval, TimeUnit.MILLISECONDS);
    log.info("daemon {}: Execution ARMORs run {}; heartbeat every {} ms, hung after {} ms of silence",
        settings.node(), settings.executionArmors().mode() == DaemonSettings.ExecutionArmors.Mode.PROCESS
            ? "as processes of their own (socket " + settings.armorSocket() + ")" : "inside the daemon",
        interval, settings.executionArmors().heartbeatTimeout().toMillis());
  }

  /**
   * Makes a class-data-sharing archive of what an ARMOR process loads (a training run of
   * {@code ExecutionArmorMain --train} with {@code -XX:ArchiveClassesAtExit}), so that later ARMOR processes start
   * faster (about a quarter less time to HELLO, measured in docs/ARCHITECTURE.md). Made anew at each daemon start,
   * for the JVM and class path of this daemon; without it ARMOR processes start as before.
   */
  private void trainClassDataArchive() {
    Path archive = settings.runDirectory().resolve("armor-process.jsa");
    Path partial = settings.runDirectory().resolve("armor-process.jsa.part");
    long start = System.nanoTime();
    try {
      Files.deleteIfExists(archive);
      Files.deleteIfExists(partial);
      List<String> command = new ArrayList<>(javaCommand());
      command.add(command.size() - 3, "-XX:ArchiveClassesAtExit=" + partial);
      command.add("--train");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      builder.environment().remove("JAVA_TOOL_OPTIONS");
      Process training = builder.start();
      if (!training.waitFor(2, TimeUnit.MINUTES)) {
        training.destroyForcibly();
        log.warn("daemon {}: the class-data training run of ARMOR processes took over 2 minutes; ARMOR processes "
            + "start without an archive", settings.node());
        return;
      }
      if (training.exitValue() != 0 || !Files.isRegularFile(partial)) {
        log.warn("daemon {}: the class-data training run of ARMOR processes failed (exit status {}); ARMOR "
            + "processes start without an archive", settings.node(), training.exitValue());
        return;
      }
      Files.move(partial, archive, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      classDataArchive = archive;
      log.info("daemon {}: class-data archive for ARMOR processes ready in {} ms: {}", settings.node(),
          (System.nanoTime() - start) / 1_000_000, archive);
    } catch (IOException e) {
      log.warn("daemon {}: no class-data archive for ARMOR processes: {}", settings.node(), e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code java FLAGS -cp CLASSPATH ExecutionArmorMain} (the last three words are the class path and the class). */
  private List<String> javaCommand() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ARMOR_JVM_OPTIONS);
    Path archive = classDataArchive;
    if (archive != null) {
      command.add("-XX:SharedArchiveFile=" + archive);
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ExecutionArmorMain.class.getName()));
    return command;
  }

  /**
   * The shim's options for the app of {@code launch}: wired to the daemon's socket, or to its user's own when it runs
   * as another user ({@link UserShimSockets}; throws {@link java.io.UncheckedIOException} when that cannot be made).
   */
  private String agentOptions(String armorId, LaunchProcess launch) {
    return settings.agentOptions(armorId, userSockets.socketFor(launch.getUser()));
  }

  /** Installs the Execution ARMOR {@code launch.armor_id} and makes it routable (the launch itself follows). */
  void install(LaunchProcess launch) {
    String armorId = launch.getArmorId();
    if (settings.executionArmors().mode() == DaemonSettings.ExecutionArmors.Mode.IN_DAEMON) {
      ExecutionElement execution =
          new ExecutionElement(settings.node(), ProcessLauncher.SYSTEM, settings.logDirectory(),
              id -> agentOptions(id, launch),
              settings.liveness().hangTimeout());
      // An Execution ARMOR sends everything through its daemon, the gateway.
      ActorRef<ArmorActor.Command> armor =
          system.systemActorOf(
              ArmorActor.create(armorId, List.of(execution), (message, replyTo) -> {
                gateway.tell(new ArmorActor.Deliver(message, replyTo));
                return true;
              }, ArmorClock.SYSTEM),
              armorId, Props.empty());
      inDaemon.put(armorId, new InDaemonArmor(armorId, armor, clock.nanoTime()));
      router.install(armorId, armor);
      return;
    }
    ArmorProcess armor = new ArmorProcess(launch);
    processes.put(armorId, armor);
    router.install(armorId, system.systemActorOf(proxy(armorId), armorId, Props.empty()));
    executor.execute(() -> armor.startProcess("installed"));
  }

  /** The router's stand-in for an ARMOR process: what is delivered to it goes over the channel. */
  private Behavior<ArmorActor.Command> proxy(String armorId) {
    return Behaviors.receive(ArmorActor.Command.class)
        .onMessage(ArmorActor.Deliver.class, deliver -> {
          executor.execute(() -> processes.get(armorId).deliver(deliver.message(), deliver.replyTo()));
          return Behaviors.same();
        })
        .build();
  }

  // ---- heartbeats --------------------------------------------------------------------------------

  private void heartbeat() {
    if (closing) {
      return;
    }
    long now = clock.nanoTime();
    try {
      for (InDaemonArmor armor : inDaemon.values()) {
        armor.heartbeat(now);
      }
      for (ArmorProcess armor : processes.values()) {
        armor.heartbeat(now);
      }
    } catch (RuntimeException e) {
      log.error("daemon {}: heartbeating the Execution ARMORs failed", settings.node(), e);
    }
  }

  private ArmorMessage describeRequest(String armorId) {
    return Armors.message(gatewayId, armorId, Ops.DESCRIBE_PROCESS, Empty.getDefaultInstance());
  }

  /** An ARMOR actor inside the daemon: heartbeated with an ask; a silent one can only be reported. */
  private final class InDaemonArmor {
    private final String armorId;
    private final ActorRef<ArmorActor.Command> armor;
    private long lastAnswerNanos;
    private boolean silent;

    InDaemonArmor(String armorId, ActorRef<ArmorActor.Command> armor, long nowNanos) {
      this.armorId = armorId;
      this.armor = armor;
      this.lastAnswerNanos = nowNanos;
    }

    void heartbeat(long nowNanos) {
      long silentMillis = (nowNanos - lastAnswerNanos) / 1_000_000;
      if (!silent && silentMillis > settings.executionArmors().heartbeatTimeout().toMillis()) {
        silent = true;
        log.warn("daemon {}: Execution ARMOR {} (in the daemon) has not answered its heartbeats for {} ms; an ARMOR "
            + "inside the daemon cannot be restarted on its own", settings.node(), armorId, silentMillis);
      }
      Armors.request(armor, describeRequest(armorId), settings.executionArmors().heartbeatTimeout(), system.scheduler())
          .whenComplete((reply, failure) -> {
            if (failure == null) {
              executor.execute(() -> answered());
            }
          });
    }

    private void answered() {
      long now = clock.nanoTime();
      if (silent) {
        log.info("daemon {}: Execution ARMOR {} answers its heartbeats again after {} ms of silence",
            settings.node(), armorId, (now - lastAnswerNanos) / 1_000_000);
        silent = false;
      }
      lastAnswerNanos = now;
    }
  }

  // ---- ARMOR processes ---------------------------------------------------------------------------

  /** What killing a dead ARMOR's app found: the pids killed, and any still alive after the wait. */
  private record OrphanCleanup(List<Long> killed, List<Long> survivors) {}

  /** A message for an ARMOR process waiting for its channel. */
  private record Queued(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {}

  /** One Execution ARMOR run as a process of its own. Touched only on the executor's thread. */
  private final class ArmorProcess {

    /** The ARMOR process's lifecycle, as its daemon sees it. */
    enum State {
      /** Its JVM was started; waiting for its HELLO on the channel. */
      STARTING,
      /** It said HELLO and answers its heartbeats; messages flow over the channel. */
      UP,
      /** Its process died (or was killed as hung): its app is being killed, a new process follows. */
      FAILED,
      /** It kept dying: no more restarts; its app is reported failed. */
      GAVE_UP,
      /** The daemon stops: the ARMOR and its app stop with it. */
      STOPPING;

      boolean canBecome(State next) {
        return switch (this) {
          case STARTING -> next == UP || next == FAILED || next == STOPPING;
          case UP -> next == FAILED || next == STOPPING;
          case FAILED -> next == STARTING || next == GAVE_UP || next == STOPPING;
          case GAVE_UP -> next == STOPPING;
          case STOPPING -> false;
        };
      }
    }

    private final String armorId;
    private final LaunchProcess spec;
    private final RestartBudget budget = new RestartBudget(10, Duration.ofMinutes(1), Duration.ofMillis(250),
        Duration.ofSeconds(5));
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private State state = State.STARTING;
    private Process process;
    private ArmorChannel channel;
    private long startedAtNanos;
    private long upAtNanos;
    private long lastAnswerNanos;
    private long failedAtNanos;
    /** Set while recovering from a crash: the app's next start is logged with the time since the crash. */
    private boolean awaitingApp;
    private long appPid;
    /** False from an ARMOR process's death until its app is known dead: the new ARMOR gets nothing before that. */
    private boolean appCleared = true;
    private long previousProcessPid;
    private int reinstalls;

    ArmorProcess(LaunchProcess spec) {
      this.armorId = spec.getArmorId();
      this.spec = spec;
    }

    private void transitionTo(State next, String reason) {
      if (!state.canBecome(next)) {
        throw new IllegalStateException("Execution ARMOR process " + armorId + " cannot go from " + state + " to "
            + next + " (" + reason + ")");
      }
      log.info("daemon {}: Execution ARMOR process {}: {} -> {}: {}", settings.node(), armorId, state, next, reason);
      state = next;
    }

    /**
     * The agent options handed to the ARMOR process. When the socket for the app's user cannot be made, the daemon's
     * own: the ARMOR process then fails the launch itself, saying why (no such user, a daemon that is not root).
     */
    private String processAgentOptions() {
      try {
        return agentOptions(armorId, spec);
      } catch (java.io.UncheckedIOException e) {
        log.warn("daemon {}: Execution ARMOR process {}: {}", settings.node(), armorId, e.getCause().getMessage());
        return settings.agentOptions(armorId);
      }
    }

    void startProcess(String why) {
      List<String> command = new ArrayList<>(javaCommand());
      command.addAll(List.of("--channel", settings.armorSocket().toString(), "--armor", armorId, "--node", settings.node(),
          "--log-dir", settings.logDirectory().toString(), "--agent-options", processAgentOptions(),
          "--hang-timeout-ms", Long.toString(settings.liveness().hangTimeout().toMillis())));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().remove("JAVA_TOOL_OPTIONS"); // the ARMOR itself is never shimmed
      builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      Path logFile = settings.logDirectory().resolve("armor-process-" + armorId + ".log");
      startedAtNanos = clock.nanoTime();
      try {
        Files.createDirectories(logFile.getParent());
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        process = builder.start();
      } catch (IOException e) {
        log.error("daemon {}: cannot start the Execution ARMOR process {}: {}", settings.node(), armorId, e.getMessage());
        process = null;
        failedAtNanos = clock.nanoTime();
        if (state != State.FAILED) {
          transitionTo(State.FAILED, "its JVM cannot start: " + e.getMessage());
        }
        scheduleReinstall("its JVM cannot start");
        return;
      }
      if (state == State.FAILED) {
        transitionTo(State.STARTING, why + ": pid " + process.pid());
      } else {
        log.info("daemon {}: Execution ARMOR {} started as process pid {} ({}), log {}", settings.node(), armorId,
            process.pid(), why, logFile);
      }
      Process started = process;
      started.onExit().thenRun(() -> executor.execute(() -> exited(started)));
    }

    void hello(ArmorChannel helloChannel, long pid) {
      if (state != State.STARTING || process == null || process.pid() != pid) {
        helloChannel.close("ARMOR " + armorId + " pid " + pid + " is not the process the daemon is waiting for");
        return;
      }
      channel = helloChannel;
      long now = clock.nanoTime();
      upAtNanos = now;
      lastAnswerNanos = now;
      long startMillis = (now - startedAtNanos) / 1_000_000;
      if (reinstalls == 0) {
        transitionTo(State.UP, "pid " + pid + " said HELLO " + startMillis + " ms after its start");
      } else {
        String detail = "Execution ARMOR process pid " + pid + " replaced pid " + previousProcessPid + " (reinstall "
            + reinstalls + "): up " + (now - failedAtNanos) / 1_000_000 + " ms after its predecessor's death was "
            + "detected (JVM start to HELLO " + startMillis + " ms)";
        transitionTo(State.UP, detail);
        report(ProcessEventKind.ARMOR_RESTARTED, pid, 0, detail);
      }
      flushIfReady();
    }

    /** Hands the queued messages to the ARMOR process once it is up and its predecessor's app is gone. */
    private void flushIfReady() {
      if (state != State.UP || !appCleared) {
        return;
      }
      while (!queue.isEmpty()) {
        Queued next = queue.poll();
        deliver(next.message(), next.replyTo());
      }
    }

    void deliver(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
      State effective = state == State.UP && !appCleared ? State.STARTING : state;
      switch (effective) {
        case UP -> {
          if (replyTo == null) {
            channel.send(message);
          } else {
            channel.request(message, reply -> {
              noteReply(reply);
              replyTo.tell(reply);
            });
          }
        }
        case STARTING, FAILED -> {
          if (queue.size() >= MAX_QUEUED) {
            refuse(message, replyTo, "too many messages wait for its process to start");
          } else {
            queue.add(new Queued(message, replyTo));
          }
        }
        case GAVE_UP, STOPPING -> refuse(message, replyTo, "its process is " + state.name().toLowerCase().replace('_', ' '));
      }
    }

    private void refuse(ArmorMessage message, ActorRef<ArmorMessage> replyTo, String why) {
      log.warn("daemon {}: a {} for Execution ARMOR {} was refused: {}", settings.node(), typeOf(message), armorId, why);
      if (replyTo != null) {
        replyTo.tell(ArmorMessage.newBuilder().setFrom(armorId).setTo(message.getFrom())
            .setCorrelationId(message.getCorrelationId()).setError("Execution ARMOR " + armorId + ": " + why).build());
      }
    }

    /** The ARMOR's answers say which app process it runs: the daemon must know it to clean up after a crash. */
    private void noteReply(ArmorMessage reply) {
      if (reply.getPayload().is(ProcessLaunched.class)) {
        long pid = Ops.unpack(reply.getPayload(), ProcessLaunched.class).getPid();
        executor.execute(() -> appStarted(pid));
      }
    }

    void fromArmor(ArmorMessage message) {
      for (Bundle bundle : message.getBundlesList()) {
        for (Operation operation : bundle.getOperationsList()) {
          if (operation.getType().equals(Ops.PROCESS_EVENT)) {
            ProcessEvent event = Ops.argument(operation, ProcessEvent.class);
            if (event.getKind() == ProcessEventKind.STARTED) {
              executor.execute(() -> appStarted(event.getPid()));
            }
          }
        }
      }
    }

    private void appStarted(long pid) {
      if (pid == 0 || pid == appPid) {
        return;
      }
      appPid = pid;
      if (awaitingApp) {
        awaitingApp = false;
        log.info("daemon {}: Execution ARMOR {} recovered: its app runs again as pid {}, {} ms after the ARMOR "
            + "process's death was detected", settings.node(), armorId, pid, (clock.nanoTime() - failedAtNanos) / 1_000_000);
      }
    }

    void heartbeat(long nowNanos) {
      switch (state) {
        case STARTING -> {
          if (process != null && nowNanos - startedAtNanos > START_TIMEOUT.toNanos()) {
            log.warn("daemon {}: Execution ARMOR process {} (pid {}) did not say HELLO within {} s; killing it",
                settings.node(), armorId, process.pid(), START_TIMEOUT.toSeconds());
            process.destroyForcibly();
          }
        }
        case UP -> {
          long silentMillis = (nowNanos - lastAnswerNanos) / 1_000_000;
          if (silentMillis > settings.executionArmors().heartbeatTimeout().toMillis()) {
            log.warn("daemon {}: Execution ARMOR process {} (pid {}) missed its heartbeats for {} ms: hung; killing it "
                + "(SIGKILL) to reinstall it", settings.node(), armorId, process.pid(), silentMillis);
            process.destroyForcibly();
            return;
          }
          ArmorChannel current = channel;
          current.request(describeRequest(armorId), reply -> {
            if (reply.getError().isEmpty()) {
              executor.execute(() -> heartbeatAnswered(current, reply));
            }
          });
        }
        default -> { }
      }
    }

    private void heartbeatAnswered(ArmorChannel answeredOn, ArmorMessage reply) {
      if (answeredOn != channel || state != State.UP) {
        return;
      }
      lastAnswerNanos = clock.nanoTime();
      if (reply.getPayload().is(ProcessInfo.class)) {
        ProcessInfo info = Ops.unpack(reply.getPayload(), ProcessInfo.class);
        if (info.getAlive()) {
          appStarted(info.getPid());
        }
      }
    }

    void channelClosed(ArmorChannel closed, String reason) {
      if (closed == channel && state == State.UP) {
        log.info("daemon {}: the channel of Execution ARMOR {} closed: {}", settings.node(), armorId, reason);
      }
    }

    private void exited(Process dead) {
      if (dead != process || state == State.STOPPING || state == State.GAVE_UP) {
        return;
      }
      failedAtNanos = clock.nanoTime();
      previousProcessPid = dead.pid();
      String last = state == State.UP
          ? "; its last heartbeat was answered " + (failedAtNanos - lastAnswerNanos) / 1_000_000 + " ms before, it was up "
              + (failedAtNanos - upAtNanos) / 1_000_000 + " ms"
          : " before it said HELLO";
      String crash = "pid " + dead.pid() + " " + describeExit(dead.exitValue()) + last;
      if (channel != null) {
        channel.close("its process died");
        channel = null;
      }
      transitionTo(State.FAILED, crash);
      // The app is killed on a thread of its own while the new ARMOR process starts: the JVM start (the longest
      // step) overlaps the cleanup, and the new ARMOR gets its launch only once the old app is gone.
      appCleared = false;
      long orphanPid = appPid;
      long detectedAt = failedAtNanos;
      Thread cleanup = new Thread(() -> {
        OrphanCleanup result = killOrphans(orphanPid);
        executor.execute(() -> appGone(result, detectedAt));
      }, "armor-orphan-cleanup " + armorId);
      cleanup.setDaemon(true);
      cleanup.start();
      scheduleReinstall(crash);
    }

    private void appGone(OrphanCleanup result, long detectedAt) {
      long tookMillis = (clock.nanoTime() - detectedAt) / 1_000_000;
      if (result.killed().isEmpty()) {
        log.info("daemon {}: the dead Execution ARMOR {} left no app running (checked in {} ms)", settings.node(),
            armorId, tookMillis);
      } else {
        log.info("daemon {}: killed the orphaned app of Execution ARMOR {} (pid {}){}; gone {} ms after its ARMOR's "
            + "death was detected", settings.node(), armorId, result.killed(),
            result.survivors().isEmpty() ? "" : " - but " + result.survivors() + " is still there", tookMillis);
        long pid = result.killed().get(0);
        report(ProcessEventKind.EXITED, pid, 137, "killed (SIGKILL) with its Execution ARMOR process, which died: pid "
            + pid);
      }
      if (state == State.STOPPING) {
        return;
      }
      appCleared = true;
      flushIfReady();
    }

    /** Kills the dead ARMOR's app, and waits until it is gone: two instances must never serve the same ARMOR. */
    private OrphanCleanup killOrphans(long knownPid) {
      Set<Long> pids = new LinkedHashSet<>();
      if (knownPid != 0) {
        pids.add(knownPid);
      }
      pids.addAll(appsInProcessTable(armorId));
      List<ProcessHandle> alive = new ArrayList<>();
      for (long pid : pids) {
        ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(app -> {
          app.descendants().forEach(ProcessHandle::destroyForcibly);
          app.destroyForcibly();
          alive.add(app);
        });
      }
      long deadline = System.nanoTime() + ORPHAN_KILL_WAIT.toNanos();
      while (alive.stream().anyMatch(LocalArmors::running) && System.nanoTime() < deadline) {
        sleep(5);
      }
      return new OrphanCleanup(alive.stream().map(ProcessHandle::pid).toList(),
          alive.stream().filter(LocalArmors::running).map(ProcessHandle::pid).toList());
    }

    private void scheduleReinstall(String crash) {
      RestartBudget.Decision decision = budget.onExit(clock.nanoTime(), clock.nanoTime() - startedAtNanos);
      if (decision instanceof RestartBudget.Decision.RestartAfter restart) {
        reinstalls++;
        awaitingApp = true;
        appPid = 0;
        // The new ARMOR launches the app anew from the spec this daemon kept; nobody waits for that reply. (An
        // ARMOR that died before its HELLO still has the first launch, and its requester, queued.)
        if (queue.stream().noneMatch(q -> typeOf(q.message()).equals(Ops.LAUNCH_PROCESS))) {
          queue.addFirst(new Queued(launchMessage(), null));
        }
        executor.schedule(() -> {
          if (state == State.FAILED) {
            startProcess("reinstalled after " + crash);
          }
        }, restart.delay().toMillis(), TimeUnit.MILLISECONDS);
      } else {
        String why = "its Execution ARMOR process kept dying (" + crash + "); gave up after "
            + ((RestartBudget.Decision.GiveUp) decision).restartsInWindow() + " reinstalls within a minute";
        transitionTo(State.GAVE_UP, why);
        report(ProcessEventKind.GAVE_UP, 0, 0, why);
        while (!queue.isEmpty()) {
          Queued queued = queue.poll();
          refuse(queued.message(), queued.replyTo(), "its process gave up");
        }
      }
    }

    private ArmorMessage launchMessage() {
      return Armors.message(gatewayId, armorId, Ops.LAUNCH_PROCESS, spec);
    }

    private void report(ProcessEventKind kind, long pid, int exitCode, String detail) {
      ProcessEvent event = ProcessEvent.newBuilder().setArmorId(armorId).setNode(settings.node()).setKind(kind)
          .setPid(pid).setExitCode(exitCode).setAtMillis(clock.currentTimeMillis()).setRestarts(reinstalls)
          .setDetail(detail).build();
      gateway.tell(new ArmorActor.Deliver(Armors.message(gatewayId, ArmorIds.FTM, Ops.PROCESS_EVENT, event), null));
    }

    /** Stops the ARMOR (it stops its app) when the daemon stops; returns the process to wait for. */
    Process stop() {
      if (state != State.STOPPING) {
        transitionTo(State.STOPPING, "the daemon stops");
      }
      if (channel != null) {
        channel.close("the daemon stops");
      }
      if (process != null && process.isAlive()) {
        process.destroy();
      }
      return process;
    }
  }

  /** Processes whose environment says they were launched by ARMOR {@code armorId} of this daemon. */
  private Set<Long> appsInProcessTable(String armorId) {
    byte[] idMark = ("ARMOR_ARMOR_ID=" + armorId + "\0").getBytes(StandardCharsets.UTF_8);
    byte[] daemonMark = ("socket=" + settings.shimSocket()).getBytes(StandardCharsets.UTF_8);
    Set<Long> pids = new LinkedHashSet<>();
    ProcessHandle.allProcesses().forEach(p -> {
      try {
        byte[] environ = Files.readAllBytes(Path.of("/proc", "" + p.pid(), "environ"));
        if (AppProcess.contains(environ, idMark) && AppProcess.contains(environ, daemonMark)) {
          pids.add(p.pid());
        }
      } catch (IOException | SecurityException e) {
        // Gone already, or not ours to read.
      }
    });
    return pids;
  }

  /**
   * Whether a process still runs. A killed orphan stays a zombie until its new parent (pid 1) reaps it, which on
   * this machine took ~1.4 s, and {@link ProcessHandle#isAlive} counts zombies as alive; but a zombie has already
   * released everything (its sockets are closed), so it counts as gone here.
   */
  private static boolean running(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", "" + process.pid(), "stat"));
      int afterName = stat.lastIndexOf(')');
      char state = afterName < 0 || afterName + 2 >= stat.length() ? '?' : stat.charAt(afterName + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false; // /proc/PID is gone: so is the process
    }
  }

  private static String describeExit(int status) {
    if (status > 128 && status < 160) {
      return "was killed by signal " + (status - 128) + " (exit status " + status + ")";
    }
    return "exited with status " + status;
  }

  private static String typeOf(ArmorMessage message) {
    return message.getBundlesCount() == 0 || message.getBundles(0).getOperationsCount() == 0
        ? "reply" : message.getBundles(0).getOperations(0).getType();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The channel's events, moved onto the executor. */
  private final class ChannelEvents implements ArmorChannelServer.Listener {
    @Override
    public void hello(ArmorChannel channel, String armorId, long pid) {
      executor.execute(() -> {
        ArmorProcess armor = processes.get(armorId);
        if (armor == null) {
          channel.close("no Execution ARMOR " + armorId + " is installed on node " + settings.node());
        } else {
          armor.hello(channel, pid);
        }
      });
    }

    @Override
    public void received(String armorId, ArmorMessage message, Consumer<ArmorMessage> reply) {
      ArmorProcess armor = processes.get(armorId);
      if (armor == null) {
        return;
      }
      // Messages go on at once (the gateway is thread-safe); only what the daemon learns from them is queued.
      armor.fromArmor(message);
      ArmorMessage from = message.toBuilder().setFrom(armorId).build(); // a leaf speaks only for itself
      if (reply == null) {
        gateway.tell(new ArmorActor.Deliver(from, null));
        return;
      }
      Armors.ask(gateway, from, FORWARDED_REQUEST_TIMEOUT, system.scheduler())
          .whenComplete((answer, failure) -> reply.accept(answer != null ? answer
              : ArmorMessage.newBuilder().setFrom(from.getTo()).setTo(armorId).setCorrelationId(from.getCorrelationId())
                  .setError("no answer from " + from.getTo() + ": " + failure.getMessage()).build()));
    }

    @Override
    public void closed(ArmorChannel channel, String armorId, String reason) {
      if (armorId != null) {
        executor.execute(() -> {
          ArmorProcess armor = processes.get(armorId);
          if (armor != null) {
            armor.channelClosed(channel, reason);
          }
        });
      }
    }
  }

  /**
   * Stops every ARMOR process and waits for them (each stops its app first); what is left after the wait is
   * killed, apps included. Idempotent; called when the daemon stops, also from a JVM shutdown hook.
   */
  @Override
  public void close() {
    if (closing) {
      return;
    }
    closing = true;
    List<Process> stopping = new ArrayList<>();
    List<Long> apps = new ArrayList<>();
    try {
      executor.submit(() -> {
        for (ArmorProcess armor : processes.values()) {
          apps.add(armor.appPid);
          Process process = armor.stop();
          if (process != null) {
            stopping.add(process);
          }
        }
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("daemon {}: could not stop the Execution ARMOR processes in order: {}", settings.node(), e.toString());
    }
    if (channelServer != null) {
      channelServer.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (stopping.stream().anyMatch(Process::isAlive) && System.nanoTime() < deadline) {
      sleep(20);
    }
    for (Process process : stopping) {
      if (process.isAlive()) {
        log.warn("daemon {}: Execution ARMOR process pid {} did not stop; killing it", settings.node(), process.pid());
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    }
    for (long app : apps) {
      ProcessHandle.of(app).filter(ProcessHandle::isAlive).ifPresent(ProcessHandle::destroyForcibly);
    }
    executor.shutdownNow();
  }
}
