package dev.armor.cli;

import dev.armor.elements.control.AgentOptionsRequest;
import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ProcessLaunched;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The demo: a local cluster (an FTM and two daemons on their own loopback addresses), two audio servers under
 * Armor on node n1, one per recovery policy (reconnect, replay), their clients wrapped to node n2, and both
 * servers killed with SIGKILL while the clients play. Prints a timeline per kill: detection, server running
 * again, client's stream resumed; and each client's verdict (with replay the song plays on without restarting).
 */
@Command(name = "demo", description = "Run the audio streaming demo: kill the server repeatedly while a client plays.")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--kills", defaultValue = "3", description = "How many times to kill the server (default: ${DEFAULT-VALUE}).")
  int kills;

  @Option(names = "--interval", defaultValue = "4s", description = "Playing time between kills (default: ${DEFAULT-VALUE}).")
  String interval;

  @Option(names = "--ftm-port", defaultValue = "7700", description = "The demo FTM's control port (default: ${DEFAULT-VALUE}).")
  int ftmPort;

  @Option(names = "--cluster-port", defaultValue = "25520", description = "The demo nodes' cluster port (default: ${DEFAULT-VALUE}).")
  int clusterPort;

  @Option(names = "--service-port", defaultValue = "7000", description = "The audio server's port (default: ${DEFAULT-VALUE}).")
  int servicePort;

  private final List<Process> started = new ArrayList<>();

  /** One kill and what followed, in epoch milliseconds. */
  private record Row(String policy, int n, long pid, long killedAt, long detectedAt, long runningAgainAt, long resumedAt,
      long gapMillis) {}

  /** One audio server under a recovery policy and its client. */
  private final class Stream {
    final String policy;
    final int port;
    final BlockingQueue<Map<String, String>> events = new LinkedBlockingQueue<>();
    final List<String> summary = new ArrayList<>();
    final List<Row> rows = new ArrayList<>();
    String armorId;
    String service;
    Process audioClient;
    Thread reader;
    long killedPid;
    long killedAt;

    Stream(String policy, int port) {
      this.policy = policy;
      this.port = port;
    }

    void launchServer(FtmClient client, Path demoJar) throws InterruptedException {
      ProcessLaunched server = client.stub(60).launch(LaunchRequest.newBuilder()
          .setNode("n1")
          .addAllCommand(List.of(Installation.java().toString(), "-cp", demoJar.toString(), "dev.armor.demo.audio.AudioServer",
              "--port", "" + port))
          .setWorkingDirectory(System.getProperty("user.dir"))
          .setRecovery(RunCommand.recoveryPolicy(policy))
          .build());
      armorId = server.getArmorId();
      service = awaitService(client, armorId, 0).getService();
      say("audio server (" + policy + ") launched under " + armorId + " on n1 (pid " + server.getPid() + "), serving " + service);
    }

    void startClient(Path demoJar, String agent, ArmorHome home) throws java.io.IOException {
      ProcessBuilder builder = new ProcessBuilder(Installation.java().toString(), "-cp", demoJar.toString(),
          "dev.armor.demo.audio.AudioClient", "--host", service.substring(0, service.lastIndexOf(':')), "--port",
          service.substring(service.lastIndexOf(':') + 1), "--events", "--verify",
          "--out", home.root().resolve("demo-client-" + policy + ".wav").toString());
      builder.environment().put("JAVA_TOOL_OPTIONS", agent);
      builder.redirectErrorStream(true);
      audioClient = builder.start();
      started.add(audioClient);
      reader = new Thread(() -> readClient(policy, audioClient, events, summary), "demo-client-reader-" + policy);
      reader.setDaemon(true);
      reader.start();
      say("audio client (" + policy + ") started on n2 (pid " + audioClient.pid() + ")");
    }

    void kill(FtmClient client) {
      killedPid = serverPid(client, armorId);
      killedAt = System.currentTimeMillis();
      ProcessHandle.of(killedPid).ifPresent(ProcessHandle::destroyForcibly);
      say("SIGKILL to the " + policy + " audio server, pid " + killedPid);
    }

    void recordRecovery(FtmClient client, int n) throws InterruptedException {
      Map<String, String> resumed = awaitEvent(events, "resumed", killedAt, Duration.ofSeconds(30));
      ClusterStatus status = client.stub(10).status(StatusRequest.getDefaultInstance());
      long pid = killedPid;
      long detectedAt = status.getEventsList().stream()
          .filter(e -> e.getKind() == ProcessEventKind.EXITED && e.getPid() == pid)
          .mapToLong(ProcessEvent::getAtMillis).findFirst().orElse(-1);
      ServiceEntry entry = awaitService(client, armorId, pid);
      long resumedAt = resumed == null ? -1 : Long.parseLong(resumed.get("t"));
      long gap = resumed == null ? -1 : Long.parseLong(resumed.getOrDefault("gap_ms", "-1"));
      rows.add(new Row(policy, n, pid, killedAt, detectedAt, entry.getChangedAtMillis(), resumedAt, gap));
      say(resumed == null ? "the " + policy + " client did not resume within 30 s"
          : "the " + policy + " client's stream resumed after " + resumed.get("gap_ms") + " ms of silence");
    }

    void awaitFirstData() throws InterruptedException {
      if (awaitEvent(events, "first-data", 0, Duration.ofSeconds(60)) == null) {
        throw new ArmorCliException("the " + policy + " audio client received nothing within 60 s");
      }
    }

    /** Stops the client (SIGTERM: it prints its SUMMARY) and says whether it played through without an error. */
    boolean finish() throws InterruptedException {
      audioClient.toHandle().destroy();
      boolean ended = audioClient.waitFor(30, TimeUnit.SECONDS);
      reader.join(5000);
      boolean clean = summary.stream().anyMatch(line -> line.contains(" errors=0 ") && line.contains(" eof=false"));
      return ended && clean && rows.stream().allMatch(r -> r.resumedAt() > 0);
    }
  }

  @Override
  public Integer call() throws Exception {
    Duration between = Durations.parse("--interval", interval);
    ArmorHome home = ArmorHome.resolve();
    String ftm = "127.0.0.1:" + ftmPort;
    Path demoJar = Installation.demoJar();
    say("starting a local cluster: FTM on 127.0.0.1, daemon n1 on 127.0.0.2, daemon n2 on 127.0.0.3 (logs in " + home.logs() + ")");
    long ftmPid = Detacher.spawn("ftm-127.0.0.1-" + ftmPort, List.of("ftm", "--host", "127.0.0.1", "--port", "" + ftmPort,
        "--cluster-port", "" + clusterPort), home, Duration.ofSeconds(60));
    List<Long> pids = new ArrayList<>(List.of(ftmPid));
    try (FtmClient client = new FtmClient(ftm)) {
      CompletableFuture<Long> n1 = daemon(home, "n1", "127.0.0.2", ftm);
      CompletableFuture<Long> n2 = daemon(home, "n2", "127.0.0.3", ftm);
      pids.add(n1.join());
      pids.add(n2.join());
      String agent = "-javaagent:" + Installation.shimJar() + "=socket="
          + client.stub(10).agentOptions(AgentOptionsRequest.newBuilder().setNode("n2").build()).getShimSocket() + ",node=n2";
      List<Stream> streams = List.of(new Stream("reconnect", servicePort), new Stream("replay", servicePort + 1));
      for (Stream stream : streams) {
        stream.launchServer(client, demoJar);
      }
      for (Stream stream : streams) {
        stream.startClient(demoJar, agent, home);
      }
      for (Stream stream : streams) {
        stream.awaitFirstData();
      }
      say("wrapped the clients with: JAVA_TOOL_OPTIONS=\"" + agent + "\"");
      for (int n = 1; n <= kills; n++) {
        Thread.sleep(between.toMillis()); // let the music play between kills: this is the demo's pacing
        for (Stream stream : streams) {
          stream.kill(client);
        }
        for (Stream stream : streams) {
          stream.recordRecovery(client, n);
        }
      }
      boolean ok = true;
      for (Stream stream : streams) {
        ok &= stream.finish();
      }
      printTimeline(streams);
      for (Stream stream : streams) {
        stream.summary.forEach(line -> System.out.println(stream.policy + " client: " + line));
      }
      Stream replay = streams.get(1);
      ok &= replay.summary.stream().anyMatch(line -> line.contains(" mismatches=0"));
      System.out.println(ok
          ? "Both clients were never restarted and saw no error: each one connection lived through " + kills
              + " server kills. With reconnect the song started over after each kill (mismatches above); with replay"
              + " it played on where it was (mismatches=0)."
          : "The demo FAILED; see the logs in " + home.logs());
      return ok ? 0 : 1;
    } finally {
      for (Process p : started) {
        p.destroyForcibly();
      }
      stop(pids);
    }
  }

  private CompletableFuture<Long> daemon(ArmorHome home, String node, String host, String ftm) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Detacher.spawn("daemon-" + node, List.of("daemon", "--node", node, "--host", host, "--join", ftm,
            "--cluster-port", "" + clusterPort), home, Duration.ofSeconds(90));
      } catch (Exception e) {
        throw new ArmorCliException("daemon " + node + " did not start: " + e.getMessage());
      }
    });
  }

  private static ServiceEntry awaitService(FtmClient client, String armorId, long notPid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (ServiceEntry entry : client.stub(10).status(StatusRequest.getDefaultInstance()).getServicesList()) {
        if (entry.getArmorId().equals(armorId) && entry.getState() == ServiceState.UP && entry.getPid() != notPid) {
          return entry;
        }
      }
      Thread.sleep(100); // polling the FTM, which has no watch API yet
    }
    throw new ArmorCliException("the audio server of " + armorId + " did not serve within 60 s");
  }

  private static long serverPid(FtmClient client, String armorId) {
    for (NodeStatus node : client.stub(10).status(StatusRequest.getDefaultInstance()).getNodesList()) {
      for (ProcessInfo process : node.getProcessesList()) {
        if (process.getArmorId().equals(armorId) && process.getAlive()) {
          return process.getPid();
        }
      }
    }
    throw new ArmorCliException("the audio server of " + armorId + " is not running");
  }

  private static void readClient(String policy, Process process, BlockingQueue<Map<String, String>> events,
      List<String> summary) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("EVENT ")) {
          String[] words = line.split(" ");
          Map<String, String> event = new HashMap<>();
          event.put("event", words[1]);
          for (int i = 2; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
              event.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
          }
          events.add(event);
          if (List.of("connected", "first-data", "error", "eof").contains(event.get("event"))) {
            System.out.println("  " + policy + " client | " + line);
          }
        } else if (line.startsWith("SUMMARY")) {
          summary.add(line);
        }
      }
    } catch (java.io.IOException e) {
      summary.add("(could not read the client's output: " + e.getMessage() + ")");
    }
  }

  private static Map<String, String> awaitEvent(BlockingQueue<Map<String, String>> events, String kind, long after, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      Map<String, String> event = left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
      if (event == null) {
        return null;
      }
      if (kind.equals(event.get("event")) && Long.parseLong(event.getOrDefault("t", "0")) >= after) {
        return event;
      }
    }
  }

  private static void printTimeline(List<Stream> streams) {
    System.out.println();
    System.out.println("Timeline (milliseconds after each SIGKILL; FTM, daemons, servers and clients on one machine, unpinned):");
    System.out.println("| policy | kill | server pid | crash detected | server running again | client's first byte after | client's longest silence |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (Stream stream : streams) {
      for (Row r : stream.rows) {
        System.out.printf("| %s | %d | %d | %s | %s | %s | %s |%n", r.policy(), r.n(), r.pid(), since(r.killedAt(), r.detectedAt()),
            since(r.killedAt(), r.runningAgainAt()), since(r.killedAt(), r.resumedAt()), r.gapMillis() < 0 ? "?" : r.gapMillis() + " ms");
      }
    }
    System.out.println();
  }

  private static String since(long from, long to) {
    return to <= 0 ? "?" : "+" + (to - from) + " ms";
  }

  private static void stop(List<Long> pids) {
    for (int i = pids.size() - 1; i >= 0; i--) {
      Optional<ProcessHandle> process = ProcessHandle.of(pids.get(i));
      process.ifPresent(ProcessHandle::destroy);
      process.ifPresent(p -> p.onExit().orTimeout(15, TimeUnit.SECONDS).exceptionally(e -> {
        p.destroyForcibly();
        return p;
      }).join());
    }
    say("cluster stopped");
  }

  private static void say(String line) {
    System.out.println("demo: " + line);
  }
}
