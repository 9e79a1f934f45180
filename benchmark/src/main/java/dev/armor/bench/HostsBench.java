package dev.armor.bench;

import dev.armor.faults.SuiteCluster;
import dev.armor.faults.TestNetwork;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code scripts/bench --hosts}: what Armor costs between two hosts, where an operator runs it. The hosts are network
 * namespaces on a bridge ({@link TestNetwork}, as the fault suite's): the client app on one ({@code n2}), the server
 * app on the other ({@code n1}), the FTM on a third. Every dual proxy puts one proxy on each host, as Armor puts a
 * daemon on each: our plain relay, socat and haproxy in TCP mode, and haproxy with TLS on the hop between the hosts
 * (mutual, ECDSA P-256 certificates of a CA of the run's own, as Armor's links: the setup to hold Armor's encrypted
 * links against, issue 15). Armor's bytes between the hosts go over its daemons' links (mutual TLS 1.3); the one-host
 * direct path does not apply between hosts.
 *
 * <p>Measured, with the same client code as the one-host run: first the connects through each setup while it is
 * fresh (the first {@value BenchClient#FIRST_CONNECTS} of a new cluster, issue 19) then in steady state, the bulk of
 * one and eight connections; then the round trips at every size, in interleaved rounds (every setup running, each
 * round asking each in turn, the order rotating). Everything started is removed with the namespaces.
 */
final class HostsBench {

  static final String HAPROXY_TLS = "haproxy-tls-dual";
  private static final String FTM_HOST = "ftm";
  private static final String SERVER_HOST = "n1";
  private static final String CLIENT_HOST = "n2";
  private static final int SERVER_PORT = 7206;
  private static final int ARMOR_SERVICE_PORT = 7220;

  /** The counts of a {@code --hosts} run: full is the measurement (about 6 minutes here), smoke checks the code. */
  record Counts(int warmup, int iterations, int rounds, int connectWarmup, int connects, long bulkMillis) {
    static final Counts FULL = new Counts(2_000, 12_000, 4, 1_000, 200, 3_000);
    static final Counts SMOKE = new Counts(100, 300, 2, 10, 20, 200);
  }

  /** A setup ready to measure: where the client (on the client host) connects, with what, which processes relay. */
  private record Target(String setup, Map<String, String> env, String host, int port, List<Long> proxies) {
    String proxyPids() {
      return proxies.isEmpty() ? "-" : String.join(",", proxies.stream().map(String::valueOf).toList());
    }
  }

  private final Bench.Options options;
  private final Counts counts;
  private final Path work;
  private final Path logs;
  private final String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private final String childClassPath;
  private final Map<String, Map<String, Double>> results = new LinkedHashMap<>();
  private final Map<String, String> skipped = new LinkedHashMap<>();
  private final List<Child> children = new ArrayList<>();
  private TestNetwork network;

  HostsBench(Bench.Options options, String childClassPath) throws IOException {
    this.options = options;
    this.counts = options.smoke() ? Counts.SMOKE : Counts.FULL;
    this.work = options.work() == null ? Files.createTempDirectory("armor-bench-hosts-")
        : Files.createDirectories(options.work());
    this.logs = Files.createDirectories(work.resolve("logs"));
    this.childClassPath = childClassPath;
  }

  /** Runs every setup and measurement; returns the report in Markdown (the JSON goes to {@code --out}). */
  String run() throws Exception {
    long started = System.nanoTime();
    String load = Files.readString(Path.of("/proc/loadavg")).trim();
    Bench.log("hosts run in " + work + ": namespaces on 198.18." + options.subnet() + ".0/24, client on "
        + CLIENT_HOST + ", server on " + SERVER_HOST + ", FTM on " + FTM_HOST);
    network = TestNetwork.create(options.subnet(), List.of(FTM_HOST, SERVER_HOST, CLIENT_HOST));
    Path home = Files.createDirectories(work.resolve("armor-home"));
    try (SuiteCluster cluster = new SuiteCluster(network, options.root().resolve("scripts/armor"), home,
        List.of(FTM_HOST), List.of())) {
      try {
        List<Target> targets = start(cluster);
        for (Target target : targets) {
          measure(target);
        }
        latencyRounds(targets);
      } finally {
        children.forEach(Child::close);
      }
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    String report = markdown(load, elapsed);
    if (options.out() != null) {
      Files.writeString(options.out(), Bench.toJson(Map.of("hosts", true, "smoke", options.smoke(),
          "results", results, "skipped", skipped, "elapsed_s", elapsed, "finished", Instant.now().toString())));
    }
    if (options.markdown() != null) {
      Files.writeString(options.markdown(), report);
    }
    Bench.log(String.format(Locale.ROOT, "done in %.0f s", elapsed));
    return report;
  }

  /** The echo server, every dual proxy (one end on each host) and the Armor cluster with the server protected. */
  private List<Target> start(SuiteCluster cluster) throws Exception {
    String server = network.address(SERVER_HOST);
    String client = network.address(CLIENT_HOST);
    // The Armor cluster first, in the background: it takes the longest (JVM starts, joins).
    CompletableFuture<Target> armor = CompletableFuture.supplyAsync(() -> {
      try {
        return startArmor(cluster);
      } catch (Exception e) {
        throw new IllegalStateException("starting the Armor cluster: " + e.getMessage(), e);
      }
    });
    Child echo = child(SERVER_HOST, "echo-server",
        java("dev.armor.bench.EchoServer", "" + SERVER_PORT, "any"));
    echo.awaitLine("READY", Duration.ofSeconds(30));
    List<Target> targets = new ArrayList<>();
    targets.add(new Target(Bench.DIRECT, Map.of(), server, SERVER_PORT, List.of()));
    targets.add(pair(Bench.RELAY, 7201, 7202,
        (listen, next) -> java("dev.armor.bench.PlainRelay", listen.getHostString(), "" + listen.getPort(),
            next.getHostString(), "" + next.getPort())));
    String socat = Bench.which("socat");
    if (socat == null || options.quick()) {
      skipped.put(Bench.SOCAT, socat == null ? "socat is not installed" : "quick run");
    } else {
      targets.add(pair(Bench.SOCAT, 7203, 7204, (listen, next) -> List.of(socat,
          "TCP-LISTEN:" + listen.getPort() + ",bind=" + listen.getHostString() + ",reuseaddr,fork,nodelay",
          "TCP:" + next.getHostString() + ":" + next.getPort() + ",nodelay")));
    }
    String haproxy = Bench.which("haproxy");
    if (haproxy == null) {
      skipped.put(Bench.HAPROXY, "haproxy is not installed");
      skipped.put(HAPROXY_TLS, "haproxy is not installed");
    } else {
      targets.add(pair(Bench.HAPROXY, 7208, 7209, (listen, next) -> List.of(haproxy, "-db", "-f",
          haproxyConfig("haproxy-" + listen.getPort(), listen, next, "", ""))));
      Optional<TlsFiles> tls = TlsFiles.make(work.resolve("haproxy-tls"), logs);
      if (tls.isEmpty()) {
        skipped.put(HAPROXY_TLS, "openssl is not installed (it makes the proxies' certificates)");
      } else {
        TlsFiles files = tls.get();
        String verify = " ca-file " + files.ca() + " verify required";
        targets.add(pair(HAPROXY_TLS, 7210, 7211, (listen, next) -> List.of(haproxy, "-db", "-f",
            listen.getHostString().equals(client)
                // the client's end: plain from the app, TLS to the far end with its own certificate
                ? haproxyConfig("haproxy-tls-" + listen.getPort(), listen, next, "",
                    " ssl crt " + files.near() + verify)
                // the server's end: TLS from the near end, whose certificate it checks; plain to the app
                : haproxyConfig("haproxy-tls-" + listen.getPort(), listen, next, " ssl crt " + files.far() + verify,
                    ""))));
      }
    }
    targets.add(armor.join());
    return targets;
  }

  /** Starts the proxy pair of a dual proxy: the far end on the server's host, the near end on the client's. */
  private Target pair(String setup, int nearPort, int farPort, ProxyCommand command)
      throws Exception {
    InetSocketAddress far = new InetSocketAddress(network.address(SERVER_HOST), farPort);
    InetSocketAddress near = new InetSocketAddress(network.address(CLIENT_HOST), nearPort);
    Child farEnd = child(SERVER_HOST, setup + "-far",
        command.to(far, new InetSocketAddress("127.0.0.1", SERVER_PORT)));
    Child nearEnd = child(CLIENT_HOST, setup + "-near", command.to(near, far));
    Bench.awaitListening(far); // from the root namespace, over the bridge
    Bench.awaitListening(near);
    return new Target(setup, Map.of(), near.getHostString(), nearPort,
        List.of(nearEnd.process.pid(), farEnd.process.pid()));
  }

  /** A proxy's command line: listening on {@code listen}, relaying to {@code next}. */
  private interface ProxyCommand {
    List<String> to(InetSocketAddress listen, InetSocketAddress next) throws IOException;
  }

  private Target startArmor(SuiteCluster cluster) throws Exception {
    Bench.log("starting Armor: FTM on " + FTM_HOST + ", daemons " + SERVER_HOST + " and " + CLIENT_HOST
        + " (default settings)");
    cluster.startFtm(FTM_HOST, Optional.empty());
    CompletableFuture<Void> serverDaemon = CompletableFuture.runAsync(() -> startDaemon(cluster, SERVER_HOST));
    startDaemon(cluster, CLIENT_HOST);
    serverDaemon.join();
    cluster.run(SERVER_HOST, List.of("--max-restarts", "1000", "--wait-for-service"),
        java("dev.armor.bench.EchoServer", "" + ARMOR_SERVICE_PORT, "any"));
    List<Long> daemons = new ArrayList<>();
    for (String node : List.of(CLIENT_HOST, SERVER_HOST)) {
      daemons.add(Long.parseLong(Files.readString(cluster.home().resolve("pids/daemon-" + node + ".pid")).trim()));
    }
    return new Target(Bench.ARMOR, Map.of("JAVA_TOOL_OPTIONS", cluster.agentOptions(CLIENT_HOST)),
        network.address(SERVER_HOST), ARMOR_SERVICE_PORT, daemons);
  }

  private static void startDaemon(SuiteCluster cluster, String node) {
    try {
      cluster.startDaemon(node);
    } catch (IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** Connects (the first ones through a fresh setup, then steady) and bulk, from a client JVM on the client host. */
  private void measure(Target target) throws Exception {
    Bench.log("measuring " + target.setup() + " (" + target.host() + ":" + target.port() + ")");
    try (Child client = child(target, "client-" + target.setup(), java("dev.armor.bench.BenchClient", "measure",
        target.host(), "" + target.port(), "" + counts.connects(), "" + counts.bulkMillis(),
        "" + counts.connectWarmup()))) {
      readFigures(target.setup(), client);
    }
  }

  /** The round trips, in interleaved rounds, as the one-host run's. */
  private void latencyRounds(List<Target> targets) throws Exception {
    Bench.log("round trips: " + counts.rounds() + " interleaved rounds of " + counts.iterations() / counts.rounds()
        + " per size, setups " + targets.stream().map(Target::setup).toList());
    Bench.interleavedRounds(targets.stream().map(Target::setup).toList(), counts.rounds(), results, i -> {
      Target target = targets.get(i);
      return child(target, "latency-" + target.setup(), java("dev.armor.bench.BenchClient", "rounds", target.host(),
          "" + target.port(), "" + counts.warmup(), "" + counts.iterations() / counts.rounds(), target.proxyPids()));
    });
  }

  private void readFigures(String setup, Child client) throws Exception {
    Bench.readFigures(results, setup, client);
  }

  private List<String> java(String mainClass, String... args) {
    List<String> command = new ArrayList<>(List.of(javaBin, "-cp", childClassPath, mainClass));
    command.addAll(List.of(args));
    return command;
  }

  /** A process on {@code host}, stopped at the end of the run. */
  private Child child(String host, String name, List<String> command) throws IOException {
    Child child = Child.start(name, network.inNode(host, command), Map.of(), logs);
    children.add(child);
    return child;
  }

  /** A client JVM on the client host, wrapped as the target says (Armor's agent options). */
  private Child child(Target target, String name, List<String> command) throws IOException {
    return Child.start(name, network.inNode(CLIENT_HOST, command), target.env(), logs);
  }

  private String haproxyConfig(String name, InetSocketAddress listen, InetSocketAddress next, String bindTls,
      String serverTls) throws IOException {
    return Bench.haproxyConfig(work, name, listen, next, bindTls, serverTls).toString();
  }

  /** The TLS dual proxy's credential: a CA and one certificate per end, made with the openssl command. */
  private record TlsFiles(Path ca, Path near, Path far) {
    static Optional<TlsFiles> make(Path dir, Path logs) throws Exception {
      if (Bench.which("openssl") == null) {
        return Optional.empty();
      }
      Files.createDirectories(dir);
      String ec = "ec_paramgen_curve:prime256v1";
      openssl(dir, logs, "req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", "ca.key", "-out",
          "ca.crt", "-days", "2", "-subj", "/CN=armor-bench-ca");
      for (String end : List.of("near", "far")) {
        openssl(dir, logs, "req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", end + ".key", "-out",
            end + ".csr", "-subj", "/CN=" + end);
        openssl(dir, logs, "x509", "-req", "-in", end + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", end + ".crt", "-days", "2");
        // haproxy takes the certificate and its key in one file
        Files.writeString(dir.resolve(end + ".pem"),
            Files.readString(dir.resolve(end + ".crt")) + Files.readString(dir.resolve(end + ".key")));
      }
      return Optional.of(new TlsFiles(dir.resolve("ca.crt"), dir.resolve("near.pem"), dir.resolve("far.pem")));
    }

    private static void openssl(Path dir, Path logs, String... args) throws Exception {
      List<String> command = new ArrayList<>(List.of("openssl"));
      command.addAll(List.of(args));
      Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("openssl.log").toFile())).start();
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: see " + logs.resolve("openssl.log"));
      }
    }
  }

  // ---- the report ----

  private String markdown(String load, double elapsed) {
    List<String> setups = new ArrayList<>(results.keySet());
    StringBuilder md = new StringBuilder("# Armor benchmark between hosts")
        .append(options.smoke() ? " (smoke run: tiny counts, figures not meaningful)" : "").append("\n\n");
    md.append(String.format(Locale.ROOT, "Client app on one host, server app on another (network namespaces on a "
        + "bridge, one machine of %d CPUs, nothing pinned; load average at start: %s); every dual proxy has one end on "
        + "each host, as Armor has a daemon on each; `%s`: haproxy with mutual TLS on the hop between the hosts, "
        + "against which Armor's links (mutual TLS 1.3) are held. Finished %s after %.0f s.%s%n%n",
        Runtime.getRuntime().availableProcessors(), load, HAPROXY_TLS, Instant.now(), elapsed,
        skipped.isEmpty() ? "" : " Skipped: " + skipped + "."));
    md.append(String.format(Locale.ROOT, "## Round trip, one message in flight (µs; %d rounds of %d per size, "
        + "interleaved)%n%n", counts.rounds(), counts.iterations() / counts.rounds()));
    for (String figure : List.of("p50_us", "p99_us", "proxy_cpu_us")) {
      md.append(switch (figure) {
        case "p50_us" -> "p50";
        case "p99_us" -> "p99";
        default -> "The proxies' CPU per round trip (user and kernel, both ends summed; Armor: both daemons)";
      }).append(":\n\n");
      header(md, "size (B)", setups);
      for (int size : BenchClient.SIZES) {
        row(md, "" + size, setups, "latency." + size + "." + figure, false);
      }
      md.append("\n");
    }
    md.append(String.format(Locale.ROOT, "## Connect to first byte (µs, p50) and bulk (MB/s)%n%n"
        + "first %d: over the first %d connects of a client through the setup, the first the setup ever carried "
        + "(measured before anything else); steady: %d connects after %d more; bulk: %d ms of 64 KiB writes, client "
        + "to server, until the server counted every byte.%n%n", BenchClient.FIRST_CONNECTS,
        BenchClient.FIRST_CONNECTS, counts.connects(), counts.connectWarmup(), counts.bulkMillis()));
    header(md, "figure", setups);
    row(md, "connect, first " + BenchClient.FIRST_CONNECTS, setups, "connect.first_p50_us", false);
    row(md, "connect, steady", setups, "connect.p50_us", false);
    row(md, "close, steady", setups, "close.p50_us", false);
    row(md, "bulk, 1 connection", setups, "throughput.1.mb_s", true);
    row(md, "bulk, 8 connections", setups, "throughput.8.mb_s", true);
    md.append("\nIn the Armor column, in brackets: Armor / ").append(HAPROXY_TLS)
        .append(" (below 1 is better for times, above 1 for bulk) and Armor / the best plain dual proxy.\n");
    return md.toString();
  }

  private static void header(StringBuilder md, String first, List<String> setups) {
    md.append("| ").append(first);
    setups.forEach(setup -> md.append(" | ").append(setup));
    md.append(" |\n|---");
    setups.forEach(setup -> md.append("|---"));
    md.append("|\n");
  }

  private void row(StringBuilder md, String label, List<String> setups, String key, boolean higherIsBetter) {
    md.append("| ").append(label);
    for (String setup : setups) {
      Double value = results.get(setup).get(key);
      md.append(" | ").append(value == null ? "n/a" : String.format(Locale.ROOT, "%.1f", value));
      if (setup.equals(Bench.ARMOR) && value != null) {
        Double tls = value(HAPROXY_TLS, key);
        Double plain = bestPlain(key, higherIsBetter);
        md.append(String.format(Locale.ROOT, " (%s / %s)", ratio(value, tls), ratio(value, plain)));
      }
    }
    md.append(" |\n");
  }

  private Double bestPlain(String key, boolean higherIsBetter) {
    Double best = null;
    for (String setup : List.of(Bench.RELAY, Bench.SOCAT, Bench.HAPROXY)) {
      Double value = value(setup, key);
      if (value != null && (best == null || (higherIsBetter ? value > best : value < best))) {
        best = value;
      }
    }
    return best;
  }

  private Double value(String setup, String key) {
    Map<String, Double> figures = results.get(setup);
    return figures == null ? null : figures.get(key);
  }

  private static String ratio(double value, Double against) {
    return against == null || against == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", value / against);
  }
}
