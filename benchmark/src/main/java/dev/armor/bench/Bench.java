package dev.armor.bench;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The benchmark behind {@code scripts/bench [--smoke] [--out results.json] [--markdown results.md]}: measures,
 * in one run and side by side, a direct connection, two unprotected dual proxies (our {@link PlainRelay} twice,
 * and two chained socat processes when socat is installed) and Armor (server under {@code armor run} on n1,
 * client wrapped to n2), and prints one Markdown table per measurement plus the same data as JSON.
 *
 * <p>Design: every figure is taken inside long-lived child JVMs ({@link BenchClient}, {@link BindBench}), so JVM
 * and agent start-up never count; the orchestrator only starts and stops processes, kills the protected server
 * for the recovery measurement, and collects {@code R key value} lines. Setups run one after the other, each
 * with the same client code and counts; nothing is pinned unless the caller pins the whole run (the placement
 * line says what was seen). Everything started is stopped in {@code finally}, {@code armor stop} included.
 */
public final class Bench {

  static final String DIRECT = "direct";
  static final String RELAY = "relay-dual";
  static final String SOCAT = "socat-dual";
  static final String HAPROXY = "haproxy-dual";
  static final String ARMOR = "armor";
  static final String ARMOR_PROCESS = "armor-process";
  /** The interleaved rounds' setups listen on the run's ports plus this (base + 10 to base + 19, FTM + 10 and + 15). */
  private static final int ROUNDS_PORT_OFFSET = 10;

  /**
   * A failure the recovery measurement injects into a protected server's path; {@code key} names its figures in
   * the JSON ({@code recovery.KEY.median_ms}).
   */
  enum Failure {
    SERVER_CRASH("server-crash", "server process killed (SIGKILL), seen at once by its Execution ARMOR"),
    SERVER_HANG("server-hang", "server process stopped (SIGSTOP): declared hung after 3 s without heartbeats, "
        + "killed and restarted"),
    ARMOR_CRASH("armor-crash", "the server's Execution ARMOR process killed (SIGKILL): the daemon finds it silent "
        + "(5 s), kills the orphaned server and reinstalls the ARMOR, which restarts it"),
    DAEMON_CRASH("daemon-crash", "the server node's daemon killed (SIGKILL): the cluster downs the node (about "
        + "10 s), the FTM moves the server to the other node");

    final String key;
    final String description;

    Failure(String key, String description) {
      this.key = key;
      this.description = description;
    }
  }

  /** Counts for one mode: smoke is brief, full is the real measurement (at most 10 minutes on 2 cores). */
  record Counts(int warmup, int iterations, int connectWarmup, int connects, long bulkMillis, int binds,
      int bindWarmup, int kills, int hangs, int armorKills, int daemonKills, int idle, int scale, int audioStreams,
      long audioMillis, int latencyRounds) {
    // The round trips are measured in latencyRounds interleaved rounds, iterations / latencyRounds each.
    // 20,000 rounds per size (50,000 in runs 1 to 5, 30,000 in 6 to 8) and 15 s of streams keep the full run, six
    // setups, under 10 minutes when the machine is slow (run 8 took 578 s with 30,000, its round trips ~1.5x run 7's).
    // 1,000 warm-up connects: a daemon compiles its connect path while it serves its first few hundred connects
    // (3.3 ms p50 over a fresh daemon's first 300, 1.9 ms over the next 300, about 1.1 ms from then on, measured
    // 2026-11-24); 40 warm-up connects measured that start-up, not what a running daemon costs per connect.
    // Binds likewise: 200 warm-up binds, then 100 measured (issue 5: at least 100 calls); the first 50 of a fresh
    // cluster are reported apart (bind.first_p50_us), since a server's bind is rare and often cold in real use.
    static final Counts FULL =
        new Counts(5_000, 20_000, 1_000, 200, 3_000, 100, 200, 5, 3, 3, 1, 1_000, 10_000, 1_000, 15_000, 4);
    static final Counts SMOKE = new Counts(100, 300, 10, 20, 200, 5, 1, 1, 1, 1, 1, 20, 50, 20, 1_000, 2);

    int injections(Failure failure) {
      return switch (failure) {
        case SERVER_CRASH -> kills;
        case SERVER_HANG -> hangs;
        case ARMOR_CRASH -> armorKills;
        case DAEMON_CRASH -> daemonKills;
      };
    }
  }

  /** {@code work}: where logs go (null: a new temporary directory, kept for the user to read). */
  /**
   * {@code quick}: only the per-message and per-call figures (latency, socket calls, bulk) of direct, our relay,
   * haproxy and Armor with the ARMORs in the daemons; no scale, audio, idle or recovery rows, no socat and no
   * armor-process setup. For iterating on the proxy path (about a third of a full run); not issue 5's table.
   */
  record Options(boolean smoke, boolean quick, Path out, Path markdown, int ftmPort, int clusterPort, int basePort,
      Path work, Path root, boolean pin, boolean hosts, int subnet) {
    static Options parse(String... args) {
      boolean smoke = false;
      boolean quick = false;
      boolean pin = false;
      boolean hosts = false;
      int subnet = 79;
      Path work = null;
      Path out = null;
      Path markdown = null;
      int ftmPort = 7900;
      int clusterPort = 25900;
      int basePort = 7950;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--smoke" -> smoke = true;
          case "--quick" -> quick = true;
          case "--out" -> out = Path.of(args[++i]);
          case "--markdown" -> markdown = Path.of(args[++i]);
          case "--ftm-port" -> ftmPort = Integer.parseInt(args[++i]);
          case "--cluster-port" -> clusterPort = Integer.parseInt(args[++i]);
          case "--base-port" -> basePort = Integer.parseInt(args[++i]);
          case "--work" -> work = Path.of(args[++i]);
          case "--pin" -> pin = true;
          case "--hosts" -> hosts = true;
          case "--subnet" -> subnet = Integer.parseInt(args[++i]);
          default -> throw new IllegalArgumentException("unknown option " + args[i]
              + "; usage: bench [--smoke | --quick] [--hosts [--subnet 79]] [--out FILE.json] [--markdown FILE.md]"
              + " [--ftm-port 7900] [--cluster-port 25900] [--base-port 7950] [--work DIR] [--pin]");
        }
      }
      if (smoke && quick) {
        throw new IllegalArgumentException("--smoke and --quick exclude each other: pick one");
      }
      if (subnet < 0 || subnet > 255) {
        throw new IllegalArgumentException("--subnet must be 0..255 (the hosts get 198.18.SUBNET.0/24), not " + subnet);
      }
      if (hosts && pin) {
        throw new IllegalArgumentException("--pin places the one-host run's processes; --hosts does not pin");
      }
      return new Options(smoke, quick, out, markdown, ftmPort, clusterPort, basePort, work, findRoot(), pin, hosts,
          subnet);
    }

    private static Path findRoot() {
      String property = System.getProperty("armor.root");
      if (property != null) {
        return Path.of(property).toAbsolutePath();
      }
      Path here = Path.of("").toAbsolutePath();
      return Files.exists(here.resolve("scripts/armor")) ? here : here.getParent();
    }
  }

  private final Options options;
  private final Counts counts;
  private final Path work;
  private final Path logs;
  private final String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private final String childClassPath;
  private final Map<String, Map<String, Double>> results = new LinkedHashMap<>();
  private final Map<String, String> skipped = new LinkedHashMap<>();
  /** Per setup and failure kind, the recovery time of each injection (ms). */
  private final Map<String, Map<String, List<Double>>> recoverySamples = new LinkedHashMap<>();
  /** Per setup, when each server crash was injected (wall clock, for the phases the new instances print). */
  private final Map<String, List<Long>> crashWallMillis = new LinkedHashMap<>();

  Bench(Options options) throws IOException {
    this.options = options;
    this.counts = options.smoke() ? Counts.SMOKE : Counts.FULL;
    this.work = options.work() == null ? Files.createTempDirectory("armor-bench-")
        : Files.createDirectories(options.work());
    this.logs = Files.createDirectories(work.resolve("logs"));
    this.childClassPath = childClassPath();
  }

  /**
   * The child JVMs' class path: only the benchmark's own classes and HdrHistogram. Armor's classes on an app's class
   * path (the shim's in particular) would not be what an unmodified app has, and a second copy of the shim breaks the
   * agent.
   */
  static String childClassPath() {
    return Stream.of(Bench.class, BenchClient.class, org.HdrHistogram.Histogram.class)
        .map(Bench::location).distinct().collect(Collectors.joining(java.io.File.pathSeparator));
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    if (options.pin() && (Runtime.getRuntime().availableProcessors() < 2 || which("taskset") == null)) {
      System.err.println("bench: --pin needs taskset and at least 2 CPUs");
      System.exit(2);
    }
    if (options.hosts()) {
      System.out.println(new HostsBench(options, childClassPath()).run());
      return;
    }
    Report report = new Bench(options).run();
    System.out.println(report.markdown());
    if (options.out() == null) {
      System.out.println("```json\n" + report.json() + "\n```");
    }
  }

  /** Runs every setup and measurement; writes the files the options ask for. */
  Report run() throws Exception {
    long started = System.nanoTime();
    String load = Files.readString(Path.of("/proc/loadavg")).trim();
    log("work directory and logs: " + work + " (" + (options.smoke() ? "smoke" : options.quick() ? "quick" : "full")
        + " run)");
    int base = options.basePort();
    int serverPort = base + 6;
    try (Child server = startJava("echo-server", Map.of(), "dev.armor.bench.EchoServer", "" + serverPort, "127.0.0.1")) {
      server.awaitLine("READY", Duration.ofSeconds(30));
      List<String> setups = setups();
      try (Running rounds = new Running()) {
        Map<String, Target> roundTargets = latencyRounds(setups, base, serverPort, rounds);
        if (!options.smoke()) {
          rounds.close();
        }
        // The other figures setup after setup, each setup alone (fresh proxies and clusters), as before run 10. A
        // smoke run, whose figures mean nothing, keeps the rounds' proxies and clusters instead: starting four Armor
        // clusters rather than two took a minute of the test suite.
        for (String setup : setups) {
          try (Running running = new Running()) {
            measureAlone(options.smoke() ? roundTargets.get(setup) : start(setup, running, base, serverPort, 0));
          }
        }
      }
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    String placement = (options.quick() ? "Quick run (`--quick`): latency, socket calls and bulk of direct, "
        + "relay-dual, haproxy-dual and armor only. " : "") + (options.pin()
        ? "Processes were pinned with taskset: the apps (client, echo server, protected server) on CPU 0, every proxy "
            + "(plain relays, socat, haproxy, FTM, daemons) on CPU 1; the orchestrator floats"
        : "Processes were not pinned: client, echo server, relays/socat/haproxy, FTM and daemons all float over "
            + Runtime.getRuntime().availableProcessors() + " CPUs")
        + "; the machine was shared with other work (load average at start: " + load
        + "); the round trips were measured in " + counts.latencyRounds() + " interleaved rounds (every setup running,"
        + " each round asking each setup in turn, the order rotating), the other figures setup after setup"
        + (options.smoke() ? " (on the rounds' proxies and clusters, all left running)" : "") + "; the same"
        + " client code and counts for each.";
    Report report = new Report(options.smoke(), placement, results, skipped, recoverySamples, counts, elapsed,
        Instant.now().toString());
    if (options.out() != null) {
      Files.writeString(options.out(), report.json());
    }
    if (options.markdown() != null) {
      Files.writeString(options.markdown(), report.markdown());
    }
    log(String.format("done in %.0f s", elapsed));
    return report;
  }

  /** Every figure but the round trips, for one setup's running proxies. */
  private void measureAlone(Target target) throws Exception {
    measure(target);
    switch (target.setup) {
      case DIRECT -> {
        binds(DIRECT, Map.of());
        if (!options.quick()) {
          audio(DIRECT, Map.of(), target.host, target.port);
        }
      }
      case RELAY -> {
        if (!options.quick()) {
          idle(RELAY, Map.of(), target.host, target.port, target.proxies, "idle.", counts.idle(), 1, 'E');
        }
      }
      case ARMOR -> armor(target.server);
      case ARMOR_PROCESS -> armorProcesses(target.server);
      default -> { } // socat and haproxy: the latency, socket-call and bulk figures only
    }
  }

  private Path haproxyConfig(String name, int listen, int target) throws IOException {
    return haproxyConfig(work, name, new InetSocketAddress("127.0.0.1", listen),
        new InetSocketAddress("127.0.0.1", target), "", "");
  }

  /**
   * One haproxy of a dual proxy, in TCP mode: listening on {@code listen}, relaying to {@code next}; {@code bindTls} and
   * {@code serverTls} end the bind and server lines (TLS on either side; empty for none). Written to DIR/NAME.cfg.
   */
  static Path haproxyConfig(Path dir, String name, InetSocketAddress listen, InetSocketAddress next, String bindTls,
      String serverTls) throws IOException {
    return Files.writeString(dir.resolve(name + ".cfg"), String.join("\n",
        "global", "    maxconn 4096",
        "defaults", "    mode tcp", "    timeout connect 5s", "    timeout client 10m", "    timeout server 10m",
        "listen relay", "    bind " + listen.getHostString() + ":" + listen.getPort() + bindTls,
        "    server next " + next.getHostString() + ":" + next.getPort() + serverTls, ""));
  }

  /** Armor with the Execution ARMORs inside the daemons (the default): every measurement but the socket calls'. */
  private void armor(ProtectedServer server) throws Exception {
    Map<String, String> agent = Map.of("JAVA_TOOL_OPTIONS", server.cluster.agentOptions("n1"));
    if (options.quick()) {
      binds(ARMOR, agent);
      return;
    }
    Map<String, String> client = server.clientEnvironment();
    int servicePort = server.port;
    idle(ARMOR, client, "127.0.0.2", servicePort, daemonPids(server.home), "idle.", counts.idle(), 1, 'E');
    // The audio streams before the 10,000 idle connections: closing those keeps both daemons busy for a while.
    audio(ARMOR, client, "127.0.0.2", servicePort);
    idle(ARMOR, client, "127.0.0.2", servicePort, daemonPids(server.home), "scale.", counts.scale(), 4, 'I');
    binds(ARMOR, agent);
    recovery(ARMOR, Failure.SERVER_CRASH, server);
    recoveryPhases(ARMOR, server.home.resolve("logs"));
    recovery(ARMOR, Failure.SERVER_HANG, server);
    // Last: the server ends up on n2 and n1 stays down. Not in a smoke run: the node's downing is most of a smoke run's
    // recovery time, and NodeFailureMigrationTest and the fault suite inject it.
    if (!options.smoke()) {
      recovery(ARMOR, Failure.DAEMON_CRASH, server);
    } else {
      skipped.put(ARMOR + " " + Failure.DAEMON_CRASH.key, "smoke run");
    }
  }

  /**
   * Armor with each Execution ARMOR a process of its own ({@code armor daemon --execution-armors process}): the
   * data path is the same daemons, so latency, connect and throughput are measured too to show it, and the
   * recoveries this configuration changes. Binds, idle memory and streams do not involve the ARMOR process.
   */
  private void armorProcesses(ProtectedServer server) throws Exception {
    recovery(ARMOR_PROCESS, Failure.SERVER_CRASH, server);
    recoveryPhases(ARMOR_PROCESS, server.home.resolve("logs"));
    recovery(ARMOR_PROCESS, Failure.ARMOR_CRASH, server);
  }

  /** A cluster (FTM, daemons n1 and n2) with the echo server protected on n1, its service on 127.0.0.2. */
  private ProtectedServer startProtected(Path home, int ftmPort, int clusterPort, int servicePort,
      List<String> daemonOptions) throws Exception {
    log("starting Armor in " + home.getFileName() + ": FTM 127.0.0.1:" + ftmPort + ", daemons n1 127.0.0.2 and n2 "
        + "127.0.0.3, cluster port " + clusterPort + (daemonOptions.isEmpty() ? "" : ", daemons " + daemonOptions));
    // The smoke run injects a daemon crash too; a shorter stable-after keeps it brief (detection is not measured).
    List<String> detection = options.smoke() ? List.of("--stable-after", "3s") : List.of();
    ArmorCluster cluster = ArmorCluster.start(options.root(), home, pinning(true), ftmPort, clusterPort, detection,
        daemonOptions);
    Path pidFile = home.resolve("server.pid");
    try {
      List<String> run = new ArrayList<>(List.of("run", "--node", "n1", "--ftm", cluster.ftm(), "--max-restarts",
          "1000", "--wait-for-service", "--"));
      run.addAll(pinning(false)); // taskset execs the server, so the pid Armor watches is the server's
      run.addAll(List.of(javaBin, "-cp", childClassPath, "dev.armor.bench.EchoServer", "" + servicePort, "any",
          pidFile.toString()));
      cluster.ok(Duration.ofSeconds(120), run.toArray(String[]::new));
      return new ProtectedServer(cluster, home, pidFile, servicePort);
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** A protected echo server and its cluster; closing stops both. */
  private record ProtectedServer(ArmorCluster cluster, Path home, Path pidFile, int port) implements AutoCloseable {

    Map<String, String> clientEnvironment() throws IOException {
      return Map.of("JAVA_TOOL_OPTIONS", cluster.agentOptions("n2"));
    }

    long serverPid() throws IOException {
      return Long.parseLong(Files.readString(pidFile).trim());
    }

    @Override
    public void close() {
      // armor stop stops the server; killing it earlier would only make Armor restart it.
      cluster.close();
      try {
        if (Files.exists(pidFile)) {
          ProcessHandle.of(serverPid()).ifPresent(ProcessHandle::destroyForcibly);
        }
      } catch (IOException | NumberFormatException e) {
        log("cannot read " + pidFile + ": " + e);
      }
    }
  }

  /** A setup ready to measure: where its client connects, with what environment, and which processes relay. */
  private record Target(String setup, Map<String, String> env, String host, int port, List<Long> proxies,
      ProtectedServer server) {
    String proxyPids() {
      return proxies.isEmpty() ? "-" : String.join(",", proxies.stream().map(String::valueOf).toList());
    }
  }

  /**
   * What a run started and must stop. Stopped all at once: nothing started depends on another, and an Armor
   * cluster's orderly stop takes about 12 s, most of it waiting.
   */
  private static final class Running implements AutoCloseable {
    private final List<AutoCloseable> started = new CopyOnWriteArrayList<>();

    <T extends AutoCloseable> T add(T process) {
      started.add(process);
      return process;
    }

    /** Stops what was started, all at once; a second call stops nothing more. */
    @Override
    public void close() throws Exception {
      List<AutoCloseable> stopping = List.copyOf(started);
      started.clear();
      List<CompletableFuture<Void>> stops = new ArrayList<>();
      for (AutoCloseable process : stopping) {
        stops.add(CompletableFuture.runAsync(() -> {
          try {
            process.close();
          } catch (Exception e) {
            log("could not stop " + process + ": " + e);
          }
        }, task -> daemonThread("bench-stop", task)));
      }
      CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
    }

    static void daemonThread(String name, Runnable task) {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** The setups this run measures, in the order of the tables; says which are skipped and why. */
  private List<String> setups() {
    List<String> setups = new ArrayList<>(List.of(DIRECT, RELAY));
    if (options.quick()) {
      skipped.put(SOCAT, "quick run");
    } else if (which("socat") == null) {
      skipped.put(SOCAT, "socat is not installed");
      log("socat not installed: skipping the socat dual proxy");
    } else {
      setups.add(SOCAT);
    }
    if (which("haproxy") == null) {
      skipped.put(HAPROXY, "haproxy is not installed");
      log("haproxy not installed: skipping the haproxy dual proxy");
    } else {
      setups.add(HAPROXY);
    }
    setups.add(ARMOR);
    if (options.quick() || options.smoke()) {
      // The smoke run checks the benchmark's code in the test suite: the second cluster it would start (and its
      // recoveries, a minute of the suite) shows nothing the armor setup's run of the same code does not.
      skipped.put(ARMOR_PROCESS, options.quick() ? "quick run" : "smoke run");
    } else {
      setups.add(ARMOR_PROCESS);
    }
    return setups;
  }

  /**
   * Starts {@code setup}'s proxies (none for direct) in {@code running}, on the run's ports plus {@code offset}
   * (the interleaved rounds run every setup at once, beside nothing else, on ports of their own).
   */
  private Target start(String setup, Running running, int base, int serverPort, int offset) throws Exception {
    int first = base + offset;
    String tag = offset == 0 ? "" : "rounds-";
    switch (setup) {
      case DIRECT:
        return new Target(DIRECT, Map.of(), "127.0.0.1", serverPort, List.of(), null);
      case RELAY: {
        Child far = running.add(startJava(tag + "relay-b", Map.of(), "dev.armor.bench.PlainRelay", "127.0.0.1",
            "" + (first + 2), "127.0.0.1", "" + serverPort));
        Child near = running.add(startJava(tag + "relay-a", Map.of(), "dev.armor.bench.PlainRelay", "127.0.0.1",
            "" + (first + 1), "127.0.0.1", "" + (first + 2)));
        far.awaitLine("READY", Duration.ofSeconds(30));
        near.awaitLine("READY", Duration.ofSeconds(30));
        return new Target(RELAY, Map.of(), "127.0.0.1", first + 1, List.of(near.process.pid(), far.process.pid()),
            null);
      }
      case SOCAT: {
        String socat = which("socat");
        Child far = running.add(startProcess(tag + "socat-b", List.of(socat, "TCP-LISTEN:" + (first + 4)
            + ",bind=127.0.0.1,reuseaddr,fork,nodelay", "TCP:127.0.0.1:" + serverPort + ",nodelay"), Map.of()));
        Child near = running.add(startProcess(tag + "socat-a", List.of(socat, "TCP-LISTEN:" + (first + 3)
            + ",bind=127.0.0.1,reuseaddr,fork,nodelay", "TCP:127.0.0.1:" + (first + 4) + ",nodelay"), Map.of()));
        awaitListening(first + 4);
        awaitListening(first + 3);
        return new Target(SOCAT, Map.of(), "127.0.0.1", first + 3, List.of(near.process.pid(), far.process.pid()),
            null);
      }
      case HAPROXY: {
        // The other dual proxy an operator would reach for: two chained in TCP mode (haproxy sets TCP_NODELAY).
        String haproxy = which("haproxy");
        Child far = running.add(startProcess(tag + "haproxy-b", List.of(haproxy, "-db", "-f",
            haproxyConfig(tag + "haproxy-b", first + 9, serverPort).toString()), Map.of()));
        Child near = running.add(startProcess(tag + "haproxy-a", List.of(haproxy, "-db", "-f",
            haproxyConfig(tag + "haproxy-a", first + 8, first + 9).toString()), Map.of()));
        awaitListening(first + 9);
        awaitListening(first + 8);
        return new Target(HAPROXY, Map.of(), "127.0.0.1", first + 8, List.of(near.process.pid(), far.process.pid()),
            null);
      }
      case ARMOR: {
        ProtectedServer armor = running.add(startProtected(Files.createDirectories(work.resolve(tag + "armor-home")),
            options.ftmPort() + offset, options.clusterPort() + offset, first, List.of()));
        return new Target(ARMOR, armor.clientEnvironment(), "127.0.0.2", first, daemonPids(armor.home), armor);
      }
      case ARMOR_PROCESS: {
        ProtectedServer processes = running.add(startProtected(
            Files.createDirectories(work.resolve(tag + "armor-process-home")), options.ftmPort() + offset + 5,
            options.clusterPort() + offset + 5, first + 7, List.of("--execution-armors", "process")));
        return new Target(ARMOR_PROCESS, processes.clientEnvironment(), "127.0.0.2", first + 7,
            daemonPids(processes.home), processes);
      }
      default:
        throw new IllegalArgumentException("no setup " + setup);
    }
  }

  /**
   * The round trips of every setup, in interleaved rounds: a client per setup holds its connection throughout,
   * and each round asks every setup in turn (the order rotating from round to round) for one pass over the sizes,
   * so that what else runs on this shared machine falls on all setups alike rather than on whichever ran then.
   * Each setup's figures are over all its rounds (see {@code BenchClient.rounds}).
   */
  private Map<String, Target> latencyRounds(List<String> setups, int base, int serverPort, Running running)
      throws Exception {
    // Started side by side: the two Armor clusters took half a minute each one after the other, most of it waiting
    // (JVM starts, cluster joins); each setup has ports of its own, and whatever started is stopped by the caller.
    Map<String, CompletableFuture<Target>> starting = new LinkedHashMap<>();
    for (String setup : setups) {
      CompletableFuture<Target> target = new CompletableFuture<>();
      Running.daemonThread("bench-start-" + setup, () -> {
        try {
          target.complete(start(setup, running, base, serverPort, ROUNDS_PORT_OFFSET));
        } catch (Throwable e) {
          target.completeExceptionally(e);
        }
      });
      starting.put(setup, target);
    }
    Map<String, Target> targets = new LinkedHashMap<>();
    for (Map.Entry<String, CompletableFuture<Target>> setup : starting.entrySet()) {
      try {
        targets.put(setup.getKey(), setup.getValue().join());
      } catch (java.util.concurrent.CompletionException e) {
        for (CompletableFuture<Target> other : starting.values()) {
          other.exceptionally(failed -> null).join(); // the caller stops what started: wait until all have
        }
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
    }
    latencyRounds(List.copyOf(targets.values()));
    return targets;
  }

  private void latencyRounds(List<Target> targets) throws Exception {
    int rounds = counts.latencyRounds();
    log("round trips: " + rounds + " interleaved rounds of " + counts.iterations() / rounds + " per size, setups "
        + targets.stream().map(Target::setup).toList());
    interleavedRounds(targets.stream().map(Target::setup).toList(), rounds, results, i -> {
      Target target = targets.get(i);
      return startJava("latency-" + target.setup, target.env, "dev.armor.bench.BenchClient", "rounds", target.host,
          "" + target.port, "" + counts.warmup(), "" + counts.iterations() / rounds, target.proxyPids());
    });
  }

  /** Starts the latency client of the {@code index}th setup. */
  interface LatencyClient {
    Child start(int index) throws IOException;
  }

  /**
   * The round trips of {@code setups} in interleaved rounds: one {@code BenchClient rounds} per setup ({@code start}),
   * each round asking every setup in turn, the order rotating from round to round; then each client's figures into
   * {@code results}. Every client is stopped at the end.
   */
  static void interleavedRounds(List<String> setups, int rounds, Map<String, Map<String, Double>> results,
      LatencyClient start) throws Exception {
    List<Child> clients = new ArrayList<>();
    try {
      for (int i = 0; i < setups.size(); i++) {
        Child client = start.start(i);
        clients.add(client);
        client.awaitLine("READY", Duration.ofSeconds(60));
      }
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < clients.size(); i++) {
          int next = (i + round) % clients.size();
          clients.get(next).send("round");
          log("round " + (round + 1) + " " + setups.get(next) + ": "
              + clients.get(next).awaitLine("ROUND", Duration.ofMinutes(5)).substring("ROUND ".length()));
        }
      }
      for (int i = 0; i < clients.size(); i++) {
        clients.get(i).send("end");
        readFigures(results, setups.get(i), clients.get(i));
      }
    } finally {
      clients.forEach(Child::close);
    }
  }

  /**
   * The client JVM's connect/close and throughput figures for one setup (its round trips were measured in {@link
   * #latencyRounds}).
   */
  private void measure(Target target) throws Exception {
    log("measuring " + target.setup + " (" + target.host + ":" + target.port + ")");
    try (Child client = startJava("client-" + target.setup, target.env, "dev.armor.bench.BenchClient", "measure",
        target.host, "" + target.port, "" + counts.connects(), "" + counts.bulkMillis(), "" + counts.connectWarmup())) {
      readFigures(target.setup, client);
    }
  }

  private void readFigures(String setup, Child client) throws Exception {
    readFigures(results, setup, client);
  }

  /** Reads a client's {@code R key value} lines into {@code setup}'s figures in {@code results} until its {@code DONE}. */
  static void readFigures(Map<String, Map<String, Double>> results, String setup, Child client) throws Exception {
    Map<String, Double> figures = results.computeIfAbsent(setup, s -> new LinkedHashMap<>());
    while (true) {
      String line = client.nextLine(Duration.ofMinutes(5));
      if (line.equals("DONE")) {
        return;
      }
      if (line.startsWith("R ")) {
        String[] parts = line.split(" ");
        figures.put(parts[1], Double.parseDouble(parts[2]));
      }
    }
  }

  /**
   * Memory the proxies hold per idle connection: heap used after a full GC ({@code jcmd GC.run}, then
   * {@code GC.heap_info}) and resident set size, both summed over the two proxy processes, before and while the
   * client holds {@code idle} connections, divided by their number. Direct buffers show in RSS only.
   */
  private void idle(String setup, Map<String, String> env, String host, int port, List<Long> proxies, String prefix,
      int count, int threads, char mode) throws Exception {
    log(prefix.replace(".", "") + " connections " + setup + ": " + count + ", proxies' pids " + proxies);
    long heapBefore = 0;
    long rssBefore = 0;
    for (long pid : proxies) {
      heapBefore += heapUsedKib(pid);
      rssBefore += rssKib(pid);
    }
    long heapAfter = 0;
    long rssAfter = 0;
    int reached;
    try (Child client = startJava(prefix + "client-" + setup, env, "dev.armor.bench.BenchClient", "idle", host,
        "" + port, "" + count, "" + threads, "" + mode)) {
      String ready = client.awaitLine("READY", Duration.ofMinutes(5));
      reached = Integer.parseInt(ready.split(" ")[1]);
      if (reached < count) {
        log("  reached " + reached + " of " + count + " connections: " + ready);
      }
      if (reached == 0) {
        throw new IOException(setup + ": no idle connection opened: " + ready);
      }
      for (long pid : proxies) {
        heapAfter += heapUsedKib(pid);
        rssAfter += rssKib(pid);
      }
      log(String.format("  %d connections: heap %d -> %d KiB, RSS %d -> %d KiB", reached, heapBefore, heapAfter,
          rssBefore, rssAfter));
    }
    awaitQuiet(proxies);
    Map<String, Double> figures = results.computeIfAbsent(setup, s -> new LinkedHashMap<>());
    figures.put(prefix + "heap_per_conn_kib", (heapAfter - heapBefore) / (double) reached);
    figures.put(prefix + "rss_per_conn_kib", (rssAfter - rssBefore) / (double) reached);
    figures.put(prefix + "connections", (double) reached);
  }

  /**
   * Waits until the proxies have finished closing what the last measurement opened (their CPU over half a second
   * below a tenth of one CPU, 60 s at most), so the next measurement meets them idle: in run 10 the binds right after
   * the 10,000 connections closed took 5.5 ms p50 instead of 0.6, the daemons still tearing the connections down.
   */
  private void awaitQuiet(List<Long> proxies) throws Exception {
    if (proxies.isEmpty()) {
      return;
    }
    ProxyCpu cpu = ProxyCpu.of(String.join(",", proxies.stream().map(String::valueOf).toList()));
    long start = System.nanoTime();
    long deadline = start + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      ProxyCpu.Sample before = cpu.sample();
      Thread.sleep(500);
      ProxyCpu.Sample used = cpu.sample().minus(before);
      if (used.userMicros() + used.kernelMicros() < 50_000) { // under 10 % of one CPU over 0.5 s
        break;
      }
    }
    log(String.format("  proxies quiet after %.1f s", (System.nanoTime() - start) / 1e9));
  }

  /** {@code audioStreams} audio-rate streams for {@code audioMillis}: underruns of a 200 ms playback buffer. */
  private void audio(String setup, Map<String, String> env, String host, int port) throws Exception {
    log("audio streams " + setup + ": " + counts.audioStreams() + " for " + counts.audioMillis() + " ms");
    try (Child client = startJava("audio-" + setup, env, "dev.armor.bench.BenchClient", "audio", host, "" + port,
        "" + counts.audioStreams(), "" + counts.audioMillis())) {
      readFigures(setup, client);
      Map<String, Double> figures = results.get(setup);
      log("  " + figures.get("audio.underruns") + " underrun(s), worst stream " + figures.get(
          "audio.worst_stream_underruns"));
    }
  }

  private long heapUsedKib(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    run(List.of(jcmd, "" + pid, "GC.run"));
    String info = run(List.of(jcmd, "" + pid, "GC.heap_info"));
    java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
    if (!used.find()) {
      throw new IOException("jcmd " + pid + " GC.heap_info: no heap figure in:\n" + info);
    }
    return Long.parseLong(used.group(1));
  }

  private static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", "" + pid, "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for pid " + pid);
  }

  private static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed:\n" + out);
    }
    return out;
  }

  /** The daemons' pids, from the pid files {@code armor daemon --detach} leaves in ARMOR_HOME/pids. */
  private static List<Long> daemonPids(Path home) throws IOException {
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> files = Files.list(home.resolve("pids"))) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("daemon")).sorted().toList()) {
        pids.add(Long.parseLong(Files.readString(file).trim()));
      }
    }
    if (pids.size() != 2) {
      throw new IOException("expected two daemon pid files in " + home.resolve("pids") + ", found " + pids);
    }
    return pids;
  }

  private static long daemonPid(Path home, String node) throws IOException {
    return Long.parseLong(Files.readString(home.resolve("pids").resolve("daemon-" + node + ".pid")).trim());
  }

  /** {@code new ServerSocket(port)} timings; under Armor the bind registers the service with the FTM. */
  /** How many of a fresh binder's first (warm-up) binds make {@code bind.first_p50_us}. */
  static final int FIRST_BINDS = 50;

  private void binds(String setup, Map<String, String> env) throws Exception {
    log("binds " + setup);
    List<Double> times = new ArrayList<>();
    List<Double> first = new ArrayList<>();
    try (Child binder = startJava("binds-" + setup, env, "dev.armor.bench.BindBench", "" + (options.basePort() + 20),
        "" + counts.binds(), "" + counts.bindWarmup())) {
      while (true) {
        String line = binder.nextLine(Duration.ofMinutes(2));
        if (line.equals("DONE")) {
          break;
        }
        if (line.startsWith("S bind.us ")) {
          times.add(Double.parseDouble(line.substring("S bind.us ".length())));
        } else if (line.startsWith("W bind.us ") && first.size() < FIRST_BINDS) {
          first.add(Double.parseDouble(line.substring("W bind.us ".length())));
        }
      }
    }
    double[] values = times.stream().mapToDouble(Double::doubleValue).toArray();
    Map<String, Double> figures = results.computeIfAbsent(setup, s -> new LinkedHashMap<>());
    figures.put("bind.mean_us", BenchClient.mean(values));
    figures.put("bind.p50_us", BenchClient.median(values));
    figures.put("bind.count", (double) values.length);
    if (!first.isEmpty()) {
      figures.put("bind.first_p50_us", BenchClient.median(first.stream().mapToDouble(Double::doubleValue).toArray()));
    }
  }

  /**
   * Injects {@code failure} as often as the counts say, each time while a client pings the protected server on one
   * connection; the figure is the time from the injection to the client's first echo of a ping sent after it,
   * which only a new server instance can have answered.
   */
  private void recovery(String setup, Failure failure, ProtectedServer server) throws Exception {
    int injections = counts.injections(failure);
    log("recovery " + setup + ": " + injections + " x " + failure.description);
    List<Double> samples = recoverySamples.computeIfAbsent(setup, s -> new LinkedHashMap<>())
        .computeIfAbsent(failure.key, k -> new ArrayList<>());
    try (Child client = startJava("recovery-" + failure.key + "-" + setup, server.clientEnvironment(),
        "dev.armor.bench.BenchClient", "recover", "127.0.0.2", "" + server.port())) {
      client.awaitLine("READY", Duration.ofSeconds(30));
      long lastVictim = -1;
      for (int i = 0; i < injections; i++) {
        // Armor restarts at once only a process that ran for 2 s; wait that out so every kill sees the same policy.
        Thread.sleep(2_500);
        long pid = awaitNewServer(server, lastVictim);
        lastVictim = pid;
        long injectedAt = System.nanoTime();
        long injectedAtWall = System.currentTimeMillis();
        String victim = inject(failure, server, pid);
        if (failure == Failure.SERVER_HANG) {
          // kill -STOP is a process of its own that takes a while to start on a loaded machine; the server answers
          // until the signal lands, so the clock starts when the server is seen stopped.
          injectedAt = awaitStopped(pid);
          injectedAtWall = System.currentTimeMillis();
        }
        // An ARMOR's crash leaves its server running (it still answers) until the daemon finds the ARMOR dead and
        // kills the orphan; a daemon's crash leaves it running until its shim fences it (on the direct path it
        // answers the client meanwhile): pings are "after the failure" only from then on; the time until then is
        // added back.
        long outageFrom = failure == Failure.ARMOR_CRASH || failure == Failure.DAEMON_CRASH
            ? awaitGone(pid, Duration.ofSeconds(60)) : injectedAt;
        client.send("KILLED " + outageFrom);
        String line = client.awaitLine("RECOVERED ", Duration.ofSeconds(90));
        double millis = (outageFrom - injectedAt) / 1e6
            + Double.parseDouble(line.substring("RECOVERED ".length())) / 1000.0;
        samples.add(millis);
        if (failure == Failure.SERVER_CRASH) {
          crashWallMillis.computeIfAbsent(setup, s -> new ArrayList<>()).add(injectedAtWall);
        }
        log(String.format("  %s %d (%s): first echo from the new instance after %.1f ms", failure.key, i + 1, victim,
            millis));
      }
    }
    double[] values = samples.stream().mapToDouble(Double::doubleValue).toArray();
    Map<String, Double> figures = results.computeIfAbsent(setup, s -> new LinkedHashMap<>());
    String key = "recovery." + failure.key + ".";
    figures.put(key + "median_ms", BenchClient.median(values));
    figures.put(key + "min_ms", Arrays.stream(values).min().orElse(Double.NaN));
    figures.put(key + "max_ms", Arrays.stream(values).max().orElse(Double.NaN));
    figures.put(key + "count", (double) values.length);
  }

  /** Injects one failure; returns what was hit, for the log. */
  private String inject(Failure failure, ProtectedServer server, long serverPid) throws Exception {
    switch (failure) {
      case SERVER_CRASH -> {
        kill(serverPid, "server");
        return "server pid " + serverPid;
      }
      case SERVER_HANG -> {
        run(List.of("kill", "-STOP", "" + serverPid));
        return "server pid " + serverPid + " stopped";
      }
      case ARMOR_CRASH -> {
        long daemon = daemonPid(server.home(), "n1");
        ProcessHandle armor = ProcessHandle.of(daemon).orElseThrow().descendants()
            .filter(p -> commandLine(p.pid()).contains("ExecutionArmorMain")).findFirst()
            .orElseThrow(() -> new IOException("no Execution ARMOR process under daemon n1 (pid " + daemon + ")"));
        kill(armor.pid(), "Execution ARMOR");
        return "Execution ARMOR pid " + armor.pid() + "; its server pid " + serverPid + " killed by the daemon";
      }
      case DAEMON_CRASH -> {
        long daemon = daemonPid(server.home(), "n1");
        kill(daemon, "daemon n1");
        return "daemon n1 pid " + daemon;
      }
      default -> throw new IllegalArgumentException("unknown failure " + failure);
    }
  }

  /** The server's pid once it is not {@code previous} (the instance hit last time), waiting for the restart. */
  private static long awaitNewServer(ProtectedServer server, long previous) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      long pid = server.serverPid();
      if (pid != previous && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        return pid;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("no new server instance 90 s after pid " + previous + " was hit");
      }
      Thread.sleep(10);
    }
  }

  /** Waits until a process is in the stopped state ({@code T} in {@code /proc/PID/stat}); returns when. */
  private static long awaitStopped(long pid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      String stat = Files.readString(Path.of("/proc", "" + pid, "stat"));
      // the state follows the command name, which is in parentheses and may hold spaces
      if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("T")) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("server " + pid + " not stopped 10 s after SIGSTOP: " + stat);
      }
      Thread.sleep(1);
    }
  }

  /** Waits for a process to end; returns when it was seen gone ({@link System#nanoTime}). */
  private static long awaitGone(long pid, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() > deadline) {
        throw new IOException("process " + pid + " still runs " + timeout.toSeconds()
            + " s after the failure (nothing ended it)");
      }
      Thread.sleep(1);
    }
    return System.nanoTime();
  }

  /** The whole command line ({@code ProcessHandle.Info} cuts it at 4 KiB, before a long class path ends). */
  private static String commandLine(long pid) {
    try {
      return Files.readString(Path.of("/proc", "" + pid, "cmdline"), java.nio.charset.StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return ""; // gone meanwhile
    }
  }

  private static void kill(long pid, String what) throws IOException {
    ProcessHandle victim = ProcessHandle.of(pid).orElseThrow(() -> new IOException(what + " " + pid + " not running"));
    victim.destroyForcibly();
  }

  /**
   * Where a server crash's recovery time goes, from the wall-clock milestones each server instance printed (in its
   * Execution ARMOR's log): kill to the new instance's {@code main} (detection, launch, JVM and shim start),
   * {@code main} to bind returned (includes the registration with the FTM), bind to the client's first echo
   * (re-attach, held bytes, one round trip). Medians over the kills; the instances are ordered by their start, so
   * instance i+1 is the one started after kill i (the crashes are the first failures injected).
   */
  private void recoveryPhases(String setup, Path armorLogs) throws IOException {
    List<long[]> instances = new ArrayList<>();
    java.util.regex.Pattern ready = java.util.regex.Pattern.compile("^READY \\d+ main=(\\d+) bound=(\\d+)");
    try (Stream<Path> files = Files.list(armorLogs)) {
      for (Path log : files.filter(f -> f.getFileName().toString().startsWith("exec-")).toList()) {
        for (String line : Files.readAllLines(log)) {
          java.util.regex.Matcher m = ready.matcher(line);
          if (m.find()) {
            instances.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
          }
        }
      }
    }
    instances.sort(java.util.Comparator.comparingLong(instance -> instance[0]));
    List<Double> samples = recoverySamples.get(setup).get(Failure.SERVER_CRASH.key);
    List<Long> kills = crashWallMillis.get(setup);
    if (instances.size() < kills.size() + 1) {
      log("recovery breakdown skipped: " + instances.size() + " server instances logged for " + kills.size() + " kills");
      return;
    }
    double[][] phases = new double[3][kills.size()];
    for (int i = 0; i < kills.size(); i++) {
      long[] next = instances.get(i + 1);
      long kill = kills.get(i);
      phases[0][i] = next[0] - kill;
      phases[1][i] = next[1] - next[0];
      phases[2][i] = kill + samples.get(i) - next[1];
    }
    Map<String, Double> figures = results.computeIfAbsent(setup, s -> new LinkedHashMap<>());
    figures.put("recovery.phase.to_main_ms", BenchClient.median(phases[0]));
    figures.put("recovery.phase.bind_ms", BenchClient.median(phases[1]));
    figures.put("recovery.phase.reattach_ms", BenchClient.median(phases[2]));
  }

  private Child startJava(String name, Map<String, String> env, String mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(javaBin, "-cp", childClassPath, mainClass));
    command.addAll(Arrays.asList(args));
    return startProcess(name, command, env);
  }

  private Child startProcess(String name, List<String> command, Map<String, String> env) throws IOException {
    boolean proxy = name.startsWith("relay-") || name.startsWith("socat-") || name.startsWith("haproxy-");
    List<String> placed = new ArrayList<>(pinning(proxy));
    placed.addAll(command);
    return Child.start(name, placed, env, logs);
  }

  /**
   * With {@code --pin}, the command prefix that places a process: apps on CPU 0, proxies on CPU 1 (children, such
   * as the apps the daemons launch, inherit it, so those are placed explicitly). Empty without {@code --pin}.
   */
  private List<String> pinning(boolean proxy) {
    return options.pin() ? List.of("taskset", "-c", proxy ? "1" : "0") : List.of();
  }

  private static void awaitListening(int port) throws Exception {
    awaitListening(new InetSocketAddress("127.0.0.1", port));
  }

  /** Waits (10 s at most) until {@code address} accepts a connection. */
  static void awaitListening(InetSocketAddress address) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try (Socket probe = new Socket()) {
        probe.connect(address, 1000);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException("nothing listens on " + address, e);
        }
        Thread.sleep(50);
      }
    }
  }

  static String which(String program) {
    // haproxy lives in /usr/sbin, which a non-root PATH may lack.
    for (String dir : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException("cannot locate " + type, e);
    }
  }

  static void log(String message) {
    System.err.println("bench: " + message);
  }

  /** For the report's JSON. */
  static String toJson(Object value) {
    return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(value);
  }
}
