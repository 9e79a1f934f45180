package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.security.Pki;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Armor cluster for a test class: an FTM on 127.0.0.1 and one daemon per node on 127.0.0.2, .3, ...,
 * each a JVM of its own, all started through {@code scripts/armor} with a private {@code ARMOR_HOME}.
 *
 * <p>Classes that only run servers and clients on a default cluster of two daemons share one per test JVM
 * ({@link #shared()}): starting a cluster costs 15-20 s of the suite's two cores, and a dozen classes each started
 * their own. A class that kills or freezes a daemon or the FTM, or needs options, starts its own.
 */
final class ArmorTestCluster implements AutoCloseable {

  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  static final Path ARMOR = ROOT.resolve("scripts/armor");
  static final Path TEST_CLASSES = Path.of("target/test-classes").toAbsolutePath();
  static final Path JDK17 = Path.of(System.getProperty("java.home"), "bin", "java");
  static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

  private final Path home;
  private String ftm;
  /** Added to the environment of every {@code armor} command (ARMOR_JVM_OPTS, say: the FTM and daemons inherit it). */
  private final Map<String, String> environment;
  private final Map<String, ManagedChannel> controlChannels = new ConcurrentHashMap<>();
  private final Map<String, String> agentOptions = new ConcurrentHashMap<>();
  private final List<AppProcess> apps = java.util.Collections.synchronizedList(new ArrayList<>());
  /** The Execution ARMORs {@link #launchServer} started for the class that uses this cluster now. */
  private final List<String> launched = java.util.Collections.synchronizedList(new ArrayList<>());
  /** For a shared cluster: where each log ended when the current class took the cluster. */
  private final Map<String, Long> logMarks = new HashMap<>();
  private boolean shared;
  /** A class left this shared cluster unclean (its release timed out): the next class gets a new one. */
  private boolean left;
  private String subnet = "127.0.0";

  private static ArmorTestCluster sharedCluster;
  private static java.nio.channels.FileChannel sharedSlotLock;
  /** The slot this JVM holds once it took one: a replacement cluster reuses it (asking again would throw). */
  private static int sharedSlotHeld;
  private static final Pattern LAUNCHED = Pattern.compile("Execution ARMOR (\\S+) ");

  private ArmorTestCluster(Path home, String ftm, Map<String, String> environment) {
    this.home = home;
    this.ftm = ftm;
    this.environment = Map.copyOf(environment);
  }

  /** Starts an FTM on 127.0.0.1:{@code ftmPort} and daemons n1, n2, ... on 127.0.0.2, 127.0.0.3, ... */
  static ArmorTestCluster start(String name, int ftmPort, int clusterPort, int daemons) throws Exception {
    return start(name, ftmPort, clusterPort, daemons, List.of());
  }

  /** As {@link #start(String, int, int, int)}, with extra {@code armor daemon} options for each daemon. */
  static ArmorTestCluster start(String name, int ftmPort, int clusterPort, int daemons, List<String> daemonOptions)
      throws Exception {
    return start(name, "127.0.0", ftmPort, clusterPort, daemons, daemonOptions);
  }

  /**
   * As {@link #start(String, int, int, int, List)} on another loopback subnet: the FTM on {@code subnet.1}, daemons
   * on {@code subnet.2}, {@code subnet.3}, ... (test classes that may run beside others use a subnet of their own).
   */
  static ArmorTestCluster start(String name, String subnet, int ftmPort, int clusterPort, int daemons,
      List<String> daemonOptions) throws Exception {
    return start(name, subnet, ftmPort, clusterPort, daemons, daemonOptions, List.of());
  }

  /** As {@link #start(String, String, int, int, int, List)}, with extra {@code armor ftm} options too. */
  static ArmorTestCluster start(String name, String subnet, int ftmPort, int clusterPort, int daemons,
      List<String> daemonOptions, List<String> ftmOptions) throws Exception {
    return start(name, subnet, ftmPort, clusterPort, daemons, daemonOptions, ftmOptions, Map.of());
  }

  /**
   * As {@link #start(String, String, int, int, int, List, List)}, every {@code armor} command with {@code environment}
   * added ({@code ARMOR_JVM_OPTS=-Xmx256m}: the FTM and the daemons run with that heap).
   */
  static ArmorTestCluster start(String name, String subnet, int ftmPort, int clusterPort, int daemons,
      List<String> daemonOptions, List<String> ftmOptions, Map<String, String> environment) throws Exception {
    Path home = Files.createTempDirectory("armor-" + name + "-");
    ArmorTestCluster cluster = new ArmorTestCluster(home, subnet + ".1:" + ftmPort, environment);
    cluster.subnet = subnet;
    List<String> ftmArgs = new ArrayList<>(List.of("ftm", "--host", subnet + ".1", "--port", "" + ftmPort,
        "--cluster-port", "" + clusterPort, "--detach"));
    ftmArgs.addAll(ftmOptions);
    cluster.armorOk(Duration.ofSeconds(90), ftmArgs.toArray(String[]::new));
    List<CompletableFuture<CliResult>> starting = new ArrayList<>();
    for (int i = 1; i <= daemons; i++) {
      String node = "n" + i;
      String host = subnet + "." + (i + 1);
      List<String> args = new ArrayList<>(List.of("daemon", "--node", node, "--host", host, "--join", cluster.ftm,
          "--cluster-port", "" + clusterPort, "--detach"));
      args.addAll(daemonOptions);
      // -Darmor.test.links=multiplexed runs a class with every daemon's links multiplexed (armor daemon --links)
      String links = System.getProperty("armor.test.links", "");
      if (!links.isBlank() && !daemonOptions.contains("--links")) {
        args.addAll(List.of("--links", links.trim()));
      }
      starting.add(CompletableFuture.supplyAsync(() -> cluster.armor(Duration.ofSeconds(120), args.toArray(String[]::new))));
    }
    try {
      for (CompletableFuture<CliResult> daemon : starting) {
        CliResult result = daemon.join();
        assertThat(result.exit()).as("daemon start: %s", result).isZero();
      }
    } catch (RuntimeException | AssertionError e) {
      // The test class never gets the cluster to stop in its @AfterAll: stop what did start (the FTM kept its ports
      // and broke the next run of the class).
      cluster.dumpLogs(System.out);
      cluster.close();
      throw e;
    }
    return cluster;
  }

  record CliResult(int exit, String out) {}

  /**
   * This test JVM's shared cluster: an FTM and daemons n1 and n2 with default options, on a loopback subnet and
   * ports of this JVM's own (a slot, {@link #sharedSlot()}), started by the first class that asks and stopped when the
   * JVM exits. Each class takes it as it was left: {@link #close} stops what the class launched
   * and started, not the cluster, and {@link #log} reads only what was logged since the class took it. A cluster that
   * no longer answers with both nodes reachable is replaced.
   */
  static synchronized ArmorTestCluster shared() throws Exception {
    if (sharedCluster != null && (sharedCluster.left || !sharedCluster.healthy())) {
      System.out.println("the shared cluster in " + sharedCluster.home + " is not healthy: starting a new one");
      sharedCluster.dumpLogs(System.out); // why it is not: the report then says which node or service
      sharedCluster.stop().forEach(process -> {
        try {
          process.onExit().get(20, TimeUnit.SECONDS); // its ports are the new one's
        } catch (Exception e) {
          process.destroyForcibly();
        }
      });
      sharedCluster = null;
    }
    if (sharedCluster == null) {
      int slot = sharedSlot();
      ArmorTestCluster cluster = start("shared", "127.0." + (30 + slot), 7870 + slot, 25870 + slot, 2, List.of());
      cluster.shared = true;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> cluster.stop(), "stop-shared-cluster"));
      sharedCluster = cluster;
    }
    sharedCluster.markLogs();
    return sharedCluster;
  }

  /**
   * A slot of its own for this JVM's shared cluster (1 to 8: subnet 127.0.31 to .38, ports 7871-7878 and
   * 25871-25878): the first whose lock file no other JVM holds. Surefire's two forks run at once; the lock is held
   * until the JVM exits.
   */
  private static int sharedSlot() throws IOException {
    if (sharedSlotHeld != 0) {
      // FileChannel.tryLock on a file this JVM already locked throws OverlappingFileLockException instead of
      // returning null: a cluster replaced after a class left it unhealthy failed every later class that way.
      return sharedSlotHeld;
    }
    for (int slot = 1; slot <= 8; slot++) {
      java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(
          Path.of(System.getProperty("java.io.tmpdir"), "armor-shared-cluster-" + slot + ".lock"),
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
      if (channel.tryLock() != null) {
        sharedSlotLock = channel; // held, never closed: the JVM's exit releases it
        sharedSlotHeld = slot;
        return slot;
      }
      channel.close();
    }
    throw new IllegalStateException("all 8 shared-cluster slots are taken by other test JVMs");
  }

  /** Both daemons registered and reachable, as the FTM sees them, and no service left in APP_SERVER_DB. */
  private boolean healthy() {
    return clean(List.of());
  }

  /** {@link #healthy()}, and no process of these ARMORs still runs, as the daemons report: one status read. */
  private boolean clean(List<String> stoppedArmorIds) {
    try {
      ClusterStatus status = status();
      return status.getNodesList().stream().filter(NodeStatus::getReachable).count() == 2
          && status.getServicesList().isEmpty()
          && status.getNodesList().stream().flatMap(node -> node.getProcessesList().stream())
              .noneMatch(process -> process.getAlive() && stoppedArmorIds.contains(process.getArmorId()));
    } catch (RuntimeException | AssertionError e) {
      return false;
    }
  }

  private void markLogs() throws IOException {
    logMarks.clear();
    try (Stream<Path> logs = Files.list(home.resolve("logs"))) {
      for (Path log : logs.toList()) {
        logMarks.put(log.getFileName().toString(), Files.size(log));
      }
    }
  }

  /**
   * The log {@code name} (e.g. {@code daemon-n2.log}) as the current class's tests wrote it: on a shared cluster,
   * only what was logged since the class took the cluster, so no earlier class's lines can answer its assertions.
   */
  String log(String name) throws IOException {
    Path log = home.resolve("logs").resolve(name);
    if (!Files.exists(log)) {
      return "";
    }
    byte[] bytes = Files.readAllBytes(log);
    int from = (int) Math.min(bytes.length, logMarks.getOrDefault(name, 0L));
    return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
  }

  /** The loopback subnet of this cluster: the FTM on {@code .1}, the daemons on {@code .2}, {@code .3}, ... */
  String subnet() {
    return subnet;
  }

  /** A node's address ({@code n1} on {@code subnet.2}). */
  String host(String node) {
    return subnet + "." + (Integer.parseInt(node.substring(1)) + 1);
  }

  CliResult armor(Duration timeout, String... args) {
    CliResult result = armor(home, ftm, environment, timeout, args);
    Matcher launch = LAUNCHED.matcher(result.out());
    if (args.length > 0 && args[0].equals("run") && result.exit() == 0 && launch.find()) {
      launched.add(launch.group(1)); // stopped when the class is done with a shared cluster
    }
    return result;
  }

  /** Runs {@code scripts/armor} with {@code ARMOR_HOME=home} (and {@code ARMOR_FTM=ftm} unless null). */
  static CliResult armor(Path home, String ftm, Duration timeout, String... args) {
    return armor(home, ftm, Map.of(), timeout, args);
  }

  private static CliResult armor(Path home, String ftm, Map<String, String> environment, Duration timeout,
      String... args) {
    List<String> command = new ArrayList<>(List.of(ARMOR.toString()));
    command.addAll(Arrays.asList(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    builder.environment().put("ARMOR_HOME", home.toString());
    if (ftm != null) {
      builder.environment().put("ARMOR_FTM", ftm);
    }
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    try {
      Process process = builder.start();
      CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          return "(unreadable: " + e + ")";
        }
      });
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        return new CliResult(-1, "armor " + String.join(" ", args) + " timed out after " + timeout + "\n" + output.getNow(""));
      }
      return new CliResult(process.exitValue(), output.get(5, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IllegalStateException("cannot run armor " + String.join(" ", args), e);
    }
  }

  String armorOk(Duration timeout, String... args) {
    CliResult result = armor(timeout, args);
    assertThat(result.exit()).as("armor %s exits 0; output:%n%s", String.join(" ", args), result.out()).isZero();
    return result.out();
  }

  /** {@code armor run --wait-for-service} on {@code node}; returns the Execution ARMOR id. */
  String launchServer(String node, List<String> command) {
    return launchServer(node, List.of(), command);
  }

  /** As {@link #launchServer(String, List)}, with more {@code armor run} options (e.g. {@code --recovery replay}). */
  String launchServer(String node, List<String> runOptions, List<String> command) {
    List<String> args = new ArrayList<>(List.of("run", "--node", node, "--wait-for-service"));
    args.addAll(runOptions);
    args.add("--");
    args.addAll(command);
    String out = armorOk(Duration.ofSeconds(90), args.toArray(String[]::new));
    return out.replaceFirst("(?s).*Execution ARMOR (\\S+) .*", "$1").trim();
  }

  /**
   * The cluster's status from the FTM's control API, asked from this JVM: tests poll it, and an {@code armor status}
   * per poll was a JVM start (about 1.5 s of CPU) each time. The first of the FTM addresses that answers, as the CLI
   * picks one. {@link #statusFromCli} is the same through {@code armor status --json}.
   */
  ClusterStatus status() {
    StatusRuntimeException last = null;
    for (String target : ftm.split(",")) {
      ManagedChannel channel = controlChannels.computeIfAbsent(target.trim(), this::operatorChannel);
      try {
        return ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .status(StatusRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        last = e; // this FTM address does not answer (now): the next
      }
    }
    throw new AssertionError("no FTM at " + ftm + " answered a status request: " + last);
  }

  /** A channel to an FTM control API as the operator, whose certificate the FTM made in this cluster's home. */
  private ManagedChannel operatorChannel(String target) {
    try {
      return Grpc.newChannelBuilder(target, Pki.at(home).person().channelCredentials()).build();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The cluster's status as {@code armor status --json} prints it. */
  ClusterStatus statusFromCli() throws IOException {
    String json = armorOk(Duration.ofSeconds(30), "status", "--json");
    ClusterStatus.Builder status = ClusterStatus.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge(json, status);
    return status.build();
  }

  /**
   * Whether {@code pid} runs: alive and not a zombie. {@code ProcessHandle.isAlive} counts zombies, and a halted child
   * of a stopped daemon (or a killed orphan, until pid 1 reaps it) stays one; a zombie runs nothing and holds no socket.
   */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", "" + pid, "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false; // gone
    }
  }

  /** The live pid of the process an Execution ARMOR protects. */
  long pidOf(String armorId) throws IOException {
    return pidsOf(List.of(armorId)).get(armorId);
  }

  /** The live pid of each of these ARMORs' processes, from one status call. */
  Map<String, Long> pidsOf(Collection<String> armorIds) throws IOException {
    Map<String, Long> pids = new HashMap<>();
    for (NodeStatus node : status().getNodesList()) {
      for (ProcessInfo process : node.getProcessesList()) {
        if (armorIds.contains(process.getArmorId()) && process.getAlive()) {
          pids.put(process.getArmorId(), process.getPid());
        }
      }
    }
    for (String armorId : armorIds) {
      if (!pids.containsKey(armorId)) {
        throw new AssertionError("no live process for " + armorId);
      }
    }
    return pids;
  }

  /**
   * The live pid of a test server that prints {@code LISTENING pid=N}, read from its Armor log: cheaper than a
   * status call when a test kills the same server many times.
   */
  long listeningPid(String armorId) throws IOException {
    List<String> lines = Files.readAllLines(home.resolve("logs").resolve(armorId + ".log"));
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith("LISTENING pid=")) {
        long pid = Long.parseLong(lines.get(i).substring("LISTENING pid=".length()).trim());
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          return pid;
        }
        break;
      }
    }
    throw new AssertionError("no live server for " + armorId + " yet");
  }

  /** The JVM options that wrap an app to {@code node}'s daemon, from {@code armor agent-opts}. */
  String agentOptions(String node) {
    // one armor agent-opts per node: they name the node's socket and address, which stay for the cluster's life
    return agentOptions.computeIfAbsent(node, n -> armorOk(Duration.ofSeconds(30), "agent-opts", "--node", n).trim());
  }

  /** Starts a test app JVM wrapped to {@code node}'s daemon (or unwrapped when node is null). */
  AppProcess startApp(String node, Path java, String mainClass, String... args) throws IOException {
    return startWrappedApp(node == null ? null : agentOptions(node), java, mainClass, args);
  }

  /** Starts a test app JVM with the given agent options (null: unwrapped). */
  AppProcess startWrappedApp(String agentOptions, Path java, String mainClass, String... args) throws IOException {
    return startWithClassPath(agentOptions, java, TEST_CLASSES.toString(), mainClass, args);
  }

  /** As {@link #startWrappedApp(String, Path, String, String...)} with a class path of its own. */
  AppProcess startWithClassPath(String agentOptions, Path java, String classPath, String mainClass, String... args)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(java.toString(), "-cp", classPath, mainClass));
    command.addAll(Arrays.asList(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    if (agentOptions != null) {
      builder.environment().put("JAVA_TOOL_OPTIONS", agentOptions);
    }
    AppProcess app = new AppProcess(mainClass.substring(mainClass.lastIndexOf('.') + 1), builder.start());
    apps.add(app);
    return app;
  }

  /** The command line that runs a test app's main class on a JDK. */
  static List<String> appCommand(Path java, String mainClass, String... args) {
    List<String> command = new ArrayList<>(List.of(java.toString(), "-cp", TEST_CLASSES.toString(), mainClass));
    command.addAll(Arrays.asList(args));
    return command;
  }

  Path home() {
    return home;
  }

  /** The FTM control address(es) the CLI is given from now on ({@code ARMOR_FTM}, comma-separated). */
  void useFtm(String targets) {
    this.ftm = targets;
  }

  String ftm() {
    return ftm;
  }

  /** The pid of a node process this cluster started ({@code ftm-HOST-PORT}, {@code daemon-NODE}). */
  long nodePid(String name) throws IOException {
    return Long.parseLong(Files.readString(home.resolve("pids").resolve(name + ".pid")).trim());
  }

  /**
   * The pid of the live process under {@code node}'s daemon (an app its Execution ARMORs launched) whose command line
   * contains {@code marker}, or -1: read from /proc, so a test that polls for a restart starts no CLI JVM per poll.
   */
  long appPid(String node, String marker) throws IOException {
    return ProcessHandle.of(nodePid("daemon-" + node)).orElseThrow().descendants()
        .filter(p -> commandLine(p.pid()).contains(marker)).mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
  }

  /** A process's whole command line, arguments joined by spaces, from /proc ({@code ProcessHandle.Info} cuts it). */
  static String commandLine(long pid) {
    try {
      return Files.readString(Path.of("/proc", "" + pid, "cmdline"), java.nio.charset.StandardCharsets.ISO_8859_1)
          .replace('\0', ' ');
    } catch (IOException e) {
      return ""; // gone meanwhile
    }
  }

  /** A watcher that prints the cluster's logs when a test fails (the cluster is looked up when it does). */
  static org.junit.jupiter.api.extension.TestWatcher logsOnFailure(java.util.function.Supplier<ArmorTestCluster> cluster) {
    return new org.junit.jupiter.api.extension.TestWatcher() {
      @Override
      public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
        if (cluster.get() != null) {
          cluster.get().dumpLogs(System.out);
        }
      }
    };
  }

  /** Prints the tail of every Armor log, for a failed test. */
  void dumpLogs(PrintStream out) {
    try (Stream<Path> logs = Files.list(home.resolve("logs"))) {
      for (Path log : logs.sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        out.println("===== " + log + " (last 60 lines)");
        lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(out::println);
      }
    } catch (IOException e) {
      out.println("(no logs: " + e + ")");
    }
  }

  /**
   * The class is done with this cluster: its apps are stopped, and the cluster too, unless it is the JVM's shared one
   * ({@link #shared()}), which then only stops the Execution ARMORs the class launched (as {@code armor stop} does)
   * and is left for the next class.
   */
  @Override
  public void close() {
    apps.forEach(AppProcess::close);
    apps.clear();
    if (!shared) {
      stop();
      return;
    }
    for (String armorId : launched) {
      try {
        ArmorControlGrpc.newBlockingStub(controlChannels.computeIfAbsent(ftm.split(",")[0].trim(), this::operatorChannel))
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .stopArmor(dev.armor.elements.control.StopArmorRequest.newBuilder().setArmorId(armorId).build());
      } catch (StatusRuntimeException e) {
        System.out.println("could not stop " + armorId + " of the class that is done (stopped or moved already?): " + e);
      }
    }
    List<String> stopped = List.copyOf(launched);
    launched.clear();
    // The next class starts on a clean cluster: every service of this class gone from APP_SERVER_DB (its ports free),
    // every process it launched gone (a protected client has no service to wait for).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!clean(stopped)) {
      if (System.nanoTime() > deadline) {
        System.out.println("the shared cluster in " + home + " still has services or processes of its class (or an "
            + "unreachable node) after its class stopped them: the next class gets a new cluster");
        left = true; // shared() replaces it
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Asks the cluster's FTM and daemons to stop (SIGTERM, as {@code armor stop} does; StopArmorTest checks that
   * command) without waiting the ~6 s their graceful leave takes: nothing after a class uses its subnet, ports or home,
   * and each daemon stops its apps on its way out. The next class starts meanwhile.
   */
  private List<ProcessHandle> stop() {
    apps.forEach(AppProcess::close);
    controlChannels.values().forEach(ManagedChannel::shutdownNow);
    List<ProcessHandle> stopping = new ArrayList<>();
    try (Stream<Path> pidFiles = Files.list(home.resolve("pids"))) {
      for (Path pidFile : pidFiles.filter(f -> f.toString().endsWith(".pid")).toList()) {
        ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim())).ifPresent(process -> {
          process.destroy();
          stopping.add(process);
        });
      }
    } catch (IOException | NumberFormatException e) {
      System.err.println("could not ask the cluster in " + home + " to stop: " + e);
    }
    deleteHome(home);
    return stopping;
  }

  /**
   * Removes a test's ARMOR_HOME (logs were printed already if a test failed); {@code -Darmor.keepHome} keeps it.
   * The cluster's processes may still be stopping ({@link #close} does not wait for them) and remove files of their
   * own meanwhile (an FTM its pid file): a file gone during the walk is walked past again, never an error of the
   * test class (a soak round failed ClientCrashTest's @AfterAll on exactly that). Best effort: a file a stopping
   * process writes after the walk stays.
   */
  static void deleteHome(Path home) {
    if (System.getProperty("armor.keepHome") != null) {
      System.out.println("keeping " + home + " (armor.keepHome)");
      return;
    }
    for (int attempt = 1; attempt <= 3; attempt++) {
      try (Stream<Path> files = Files.walk(home)) {
        for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
        return;
      } catch (java.nio.file.NoSuchFileException gone) {
        if (gone.getFile() != null && gone.getFile().equals(home.toString())) {
          return;
        }
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
          System.err.println("could not remove " + home + ": " + e.getCause());
          return;
        }
      } catch (IOException e) {
        System.err.println("could not remove " + home + ": " + e);
        return;
      }
    }
    System.err.println("could not remove " + home + ": its files kept changing");
  }

  static Map<String, String> fields(String line) {
    java.util.HashMap<String, String> fields = new java.util.HashMap<>();
    for (String word : line.split(" ")) {
      int eq = word.indexOf('=');
      if (eq > 0) {
        fields.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    return fields;
  }
}
