package dev.armor.faults;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.faults.apps.SequenceClient;
import dev.armor.faults.apps.SequenceServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The fault suite: a real cluster (two FTM processes, three daemons, each node a network namespace of its own), a
 * protected echo server under the replay policy, a protected and a wrapped client streaming numbered records through
 * it; each fault injected {@code rounds} times at random moments, in a shuffled order; a table per fault of
 * detection time, recovery time, client-visible errors and bytes lost or duplicated.
 *
 * <p>After each injection the servers' own records are checked for two instances that served at once
 * ({@link RunHistory}).
 *
 * <p>The server starts on n1 and moves between n1 and n2 as their nodes are failed and restored; the clients live on
 * n3, which is never failed. Between injections the suite restores what it broke (restarts the daemon or FTM, brings
 * the link back) and waits until the cluster is whole and both clients are receiving again.
 */
public final class FaultSuite {

  static final String FTM1 = "ftm1";
  static final String FTM2 = "ftm2";
  static final String CLIENT_NODE = "n3";
  static final List<String> SERVER_NODES = List.of("n1", "n2");
  static final int SERVICE_PORT = 7950;
  /**
   * The server's progress timeout: above the 3 s hang timeout, so that a SIGSTOPped server (server-hang) is found by
   * its missing heartbeats as before, and a stuck one (server-stuck) by the progress watch.
   */
  static final String PROGRESS_TIMEOUT = "4s";
  private static final Duration STEADY_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(90);

  /**
   * @param rounds how many times each fault is injected
   * @param subnet the third octet of the suite's 198.18.x.0/24 network
   * @param keepLogs keep the cluster's logs even when every injection was clean (they are always kept otherwise)
   * @param detectionOptions options given to every {@code armor ftm} and {@code armor daemon} of the cluster (e.g.
   *     {@code --stable-after 3s}); empty for the defaults
   */
  public record Options(int rounds, List<Fault> faults, int subnet, long seed, Path armorScript, boolean keepLogs,
      List<String> detectionOptions, PrintStream out) {}

  private final Options options;
  private final SuiteCluster cluster;
  private final Random random;
  private final String service;
  private final Path appJar;
  private String clientArmor;
  private ClientLog protectedClient;
  private ClientLog wrappedClient;
  private long scannedUntil;
  /**
   * The plan's last injection: what it broke is checked (a lost node's daemon stopped itself, nothing outlived it) but
   * not restarted, since the cluster is torn down next (a daemon's or FTM's restart and the steady wait are seconds of
   * every run, and most of the test suite's short pass).
   */
  private boolean lastInjection;
  /** Pairs of server instances already reported as serving at once (RunHistory), so each is told once. */
  private final java.util.Set<String> reportedOverlaps = new java.util.HashSet<>();

  private FaultSuite(Options options, SuiteCluster cluster) {
    this.options = options;
    this.cluster = cluster;
    this.random = new Random(options.seed());
    this.service = cluster.network().address("n1") + ":" + SERVICE_PORT;
    this.appJar = codeSource();
  }

  /** Runs the suite; the cluster and its namespaces are gone when it returns. */
  public static FaultReport run(Options options) throws Exception {
    List<String> nodes = List.of(FTM1, FTM2, "n1", "n2", CLIENT_NODE);
    Path home = Files.createTempDirectory("armor-faults-");
    FaultReport report = new FaultReport("unpinned, " + Runtime.getRuntime().availableProcessors()
        + " cores shared by everything; FTM processes ftm1, ftm2 and daemons n1, n2, n3 each in a network namespace of"
        + " its own (198.18." + options.subnet() + ".0/24 over a bridge); server on n1/n2, clients on n3; node detection: "
        + (options.detectionOptions().isEmpty() ? "the defaults (--node-lease 3s --detection-pause 2s --stable-after 7s)"
            : String.join(" ", options.detectionOptions())));
    try (SuiteCluster cluster = new SuiteCluster(TestNetwork.create(options.subnet(), nodes), options.armorScript(), home,
        List.of(FTM1, FTM2), options.detectionOptions())) {
      FaultSuite suite = new FaultSuite(options, cluster);
      try {
        suite.start();
        suite.inject(report);
      } catch (Exception | AssertionError e) {
        suite.say("the suite stopped: " + e.getMessage() + "; logs are in " + home.resolve("logs"));
        throw e;
      }
      if (options.keepLogs() || !report.injections().stream().allMatch(FaultReport.Injection::clean)) {
        suite.say("logs kept in " + home.resolve("logs"));
      } else {
        deleteTree(home);
      }
    }
    return report;
  }

  private void start() throws Exception {
    say("starting the cluster: FTM processes on ftm1 and ftm2, daemons on n1, n2, n3 (home " + cluster.home() + ")");
    cluster.startFtm(FTM1, Optional.empty());
    cluster.startFtm(FTM2, Optional.of(FTM1));
    List<CompletableFuture<Void>> daemons = new ArrayList<>();
    for (String node : List.of("n1", "n2", CLIENT_NODE)) {
      daemons.add(CompletableFuture.runAsync(() -> {
        try {
          cluster.startDaemon(node);
        } catch (IOException e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      }));
    }
    daemons.forEach(CompletableFuture::join);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String server = cluster.run("n1",
        List.of("--recovery", "replay", "--progress-timeout", PROGRESS_TIMEOUT, "--wait-for-service"),
        List.of(java, "-cp", appJar.toString(), SequenceServer.class.getName(), "" + SERVICE_PORT,
            cluster.home().toString()));
    say("protected server " + server + " serves " + service);
    List<String> client = List.of(java, "-cp", appJar.toString(), SequenceClient.class.getName(),
        cluster.network().address("n1"), "" + SERVICE_PORT, "10");
    clientArmor = cluster.run(CLIENT_NODE, List.of(), client);
    protectedClient = new ClientLog(cluster.log(clientArmor));
    Path wrappedLog = cluster.log("wrapped-client");
    cluster.startWrapped(CLIENT_NODE, client, wrappedLog);
    wrappedClient = new ClientLog(wrappedLog);
    say("clients on n3: protected " + clientArmor + ", wrapped (agent-opts); a 16-byte record every 10 ms each");
    awaitSteady();
    scannedUntil = System.currentTimeMillis();
  }

  private void inject(FaultReport report) throws Exception {
    List<Fault> plan = new ArrayList<>();
    for (int round = 0; round < options.rounds(); round++) {
      List<Fault> shuffled = new ArrayList<>(options.faults());
      Collections.shuffle(shuffled, random);
      plan.addAll(shuffled);
    }
    int[] rounds = new int[Fault.values().length];
    for (int i = 0; i < plan.size(); i++) {
      Fault fault = plan.get(i);
      int round = ++rounds[fault.ordinal()];
      lastInjection = i == plan.size() - 1;
      Thread.sleep(500 + random.nextInt(2000)); // a random moment in the steady traffic
      FaultReport.Injection injection = injectOnce(fault, round);
      report.add(injection);
      say(String.format("%-22s #%d: detected %s, clients' first byte after %s, errors %d, lost %d B, duplicated %d B%s",
          fault.label(), round, ms(injection.detectionMillis()), ms(injection.recoveryMillis()), injection.errors(),
          injection.lostBytes(), injection.duplicatedBytes(), (injection.problem() + " " + injection.note()).isBlank() ? ""
              : " (" + String.join("; ", List.of(injection.problem(), injection.note()).stream()
                  .filter(t -> !t.isEmpty()).toList()) + ")"));
      if (!lastInjection) {
        awaitSteady();
      }
    }
  }

  private FaultReport.Injection injectOnce(Fault fault, int round) throws Exception {
    ClusterStatus before = status();
    ServiceEntry served = entry(before).orElseThrow();
    String serverNode = served.getNode();
    String serverArmor = served.getArmorId();
    String ftmNode = ftmProcessNode(before);
    ClientLog.Totals[] totals = {protectedClient.totals(), wrappedClient.totals()};
    List<String> notes = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    long at = System.currentTimeMillis();
    long detected = -1;
    long recovered = -1;
    switch (fault) {
      case SERVER_CRASH -> {
        kill(pidOf(before, serverArmor), "KILL");
        detected = awaitEvent(serverArmor, ProcessEventKind.EXITED, at);
        recovered = clientsBack(at);
      }
      case SERVER_HANG -> {
        long pid = pidOf(before, serverArmor);
        kill(pid, "STOP");
        detected = awaitEvent(serverArmor, ProcessEventKind.HUNG, at);
        recovered = clientsBack(at);
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          problems.add("the hung process was still alive after the recovery");
          kill(pid, "KILL");
        }
      }
      case SERVER_STUCK -> {
        long pid = pidOf(before, serverArmor);
        Files.createFile(SequenceServer.stuckTrigger(cluster.home(), pid)); // its workers block from their next read
        detected = awaitEvent(serverArmor, ProcessEventKind.HUNG, at);
        recovered = clientsBack(at);
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          problems.add("the stuck process was still alive after the recovery");
          kill(pid, "KILL");
        }
      }
      case CLIENT_CRASH -> {
        long serverLines = serverConnectionLines(serverArmor);
        kill(pidOf(before, clientArmor), "KILL");
        detected = awaitEvent(clientArmor, ProcessEventKind.EXITED, at);
        recovered = await(() -> protectedClient.firstEchoOfRunAfter(at), RECOVERY_TIMEOUT).orElse(-1);
        long disturbed = serverConnectionLines(serverArmor) - serverLines;
        if (disturbed != 0) {
          problems.add("the server saw " + disturbed + " connection accept/close event(s)");
        }
        recovered = recovered < 0 ? -1 : recovered - at;
        // The killed run's last report stands; the restarted run starts its own counters.
      }
      case DAEMON_CRASH, NODE_CRASH, NODE_HANG, FTM_CRASH_IN_RECOVERY, NODE_PARTITION, NODE_ONE_WAY, NODE_PAUSE -> {
        Optional<Long> daemonPid = cluster.nodePid("daemon-" + serverNode);
        List<Long> paused = new ArrayList<>();
        switch (fault) {
          case NODE_CRASH -> {
            cluster.network().cut(serverNode);
            cluster.network().killAll(serverNode);
          }
          case NODE_HANG -> kill(daemonPid.orElseThrow(), "STOP");
          case NODE_PARTITION -> cluster.network().block(serverNode, true, true);
          case NODE_ONE_WAY -> cluster.network().block(serverNode, false, true);
          case NODE_PAUSE -> {
            paused.addAll(cluster.network().pids(serverNode));
            for (long pid : paused) {
              kill(pid, "STOP");
            }
          }
          default -> kill(daemonPid.orElseThrow(), "KILL");
        }
        detected = awaitEvent("daemon@" + serverNode, ProcessEventKind.NODE_DOWN, at);
        if (fault == Fault.FTM_CRASH_IN_RECOVERY && detected >= 0) {
          kill(cluster.nodePid(cluster.ftmProcessName(ftmNode)).orElseThrow(), "KILL");
        }
        recovered = clientsBack(at);
        restoreNode(fault, serverNode, daemonPid, paused, problems);
        if (fault == Fault.FTM_CRASH_IN_RECOVERY) {
          restartFtmUnlessLast(ftmNode);
        }
      }
      case PARTITION_WITH_FTM -> {
        Optional<Long> daemonPid = cluster.nodePid("daemon-" + serverNode);
        Optional<Long> ftmPid = cluster.nodePid(cluster.ftmProcessName(ftmNode));
        List<String> minority = List.of(ftmNode, serverNode);
        List<String> majority = cluster.network().nodes().stream().filter(n -> !minority.contains(n)).toList();
        for (String node : minority) {
          cluster.network().blockPeers(node, majority);
        }
        // The majority side must down the FTM's node (the cluster's own decision) before its new FTM moves the work.
        detected = awaitEvent("daemon@" + serverNode, ProcessEventKind.NODE_DOWN, at);
        recovered = clientsBack(at);
        for (String node : minority) {
          cluster.network().heal(node);
        }
        if (await(() -> gone(ftmPid.orElseThrow()) ? OptionalLong.of(0) : OptionalLong.empty(),
            Duration.ofSeconds(30)).isEmpty()) {
          problems.add("the FTM process on the minority side did not stop itself within 30 s of the heal (killed)");
          kill(ftmPid.get(), "KILL");
        }
        restoreNode(Fault.NODE_PARTITION, serverNode, daemonPid, List.of(), problems);
        restartFtmUnlessLast(ftmNode);
      }
      case LINK_FLAP -> {
        // Up for 700 ms between the cuts: TCP's retransmissions back off (200 ms, then 400 ms, ...), and a link up for
        // less than that would stall the node's connections for seconds, which is no flap but an outage.
        for (int flap = 0; flap < 5; flap++) {
          cluster.network().cut(serverNode);
          Thread.sleep(300);
          cluster.network().restore(serverNode);
          Thread.sleep(700);
        }
        long flapped = System.currentTimeMillis();
        // The clients' traffic crosses the flapping link: they pause during the cuts and go on after the last.
        Thread.sleep(2_000);
        long back = 0;
        for (ClientLog client : List.of(protectedClient, wrappedClient)) {
          OptionalLong end = client.lastStallEnd(at, flapped);
          if (end.isPresent()) {
            back = Math.max(back, end.getAsLong() - at);
          }
        }
        recovered = back;
        OptionalLong noticed = OptionalLong.empty();
        for (ProcessEvent event : status().getEventsList()) {
          if (event.getArmorId().equals("daemon@" + serverNode) && event.getKind() == ProcessEventKind.NODE_DOWN
              && event.getAtMillis() >= at) {
            noticed = OptionalLong.of(event.getAtMillis() - at);
          }
        }
        detected = noticed.orElse(-1);
      }
      case FTM_CRASH -> {
        String singleton = before.getFtmNode();
        kill(cluster.nodePid(cluster.ftmProcessName(ftmNode)).orElseThrow(), "KILL");
        OptionalLong moved = await(() -> {
          Optional<ClusterStatus> now = cluster.status(Duration.ofSeconds(2));
          return now.isPresent() && !now.get().getFtmNode().equals(singleton)
              ? OptionalLong.of(System.currentTimeMillis()) : OptionalLong.empty();
        }, RECOVERY_TIMEOUT);
        detected = moved.isPresent() ? moved.getAsLong() - at : -1;
        recovered = detected;
        for (ClientLog client : List.of(protectedClient, wrappedClient)) {
          OptionalLong stallEnd = client.firstByteAfterStall(at);
          if (stallEnd.isPresent()) {
            notes.add("a client's echoes paused (over 100 ms) until +" + (stallEnd.getAsLong() - at) + " ms");
          }
        }
        restartFtmUnlessLast(ftmNode);
      }
      default -> throw new IllegalStateException("unexpected fault " + fault);
    }
    restartSelfStoppedDaemons(notes);
    if (!lastInjection) {
      awaitSteady();
    }
    ClientLog.Totals[] after = {protectedClient.totals(), wrappedClient.totals()};
    long errors = 0;
    long lost = 0;
    long dup = 0;
    for (int i = 0; i < 2; i++) {
      errors += after[i].errors() - totals[i].errors();
      lost += after[i].lost() - totals[i].lost();
      dup += after[i].dup() - totals[i].dup();
    }
    for (String ftm : lastInjection ? List.<String>of() : List.of(FTM1, FTM2)) {
      if (!cluster.controlAnswers(ftm)) {
        // The suite restarts an FTM process it killed before this point: a silent one died of something else.
        problems.add("the FTM process on " + ftm + " died without being killed by the suite (restarted)");
        restartFtm(ftm);
      }
    }
    for (RunHistory.Overlap overlap : RunHistory.overlaps(RunHistory.read(cluster.home()))) {
      if (reportedOverlaps.add(overlap.older().pid() + "/" + overlap.newer().pid())) {
        problems.add(overlap.describe());
      }
    }
    String target = fault == Fault.LINK_FLAP ? "" : fault.losesServerNode() ? "daemon@" + serverNode : serverArmor;
    long falseDetections = falseDetections(target, notes);
    return new FaultReport.Injection(fault, round, at, detected, recovered, errors, lost, dup, falseDetections,
        String.join("; ", problems), String.join("; ", notes));
  }

  /**
   * Hangs and node losses the FTM reported since the last scan for anything but the fault's target: under the
   * suite's load, a slow process or node must not be taken for a dead one.
   */
  private long falseDetections(String target, List<String> notes) {
    long until = System.currentTimeMillis();
    long count = 0;
    for (ProcessEvent event : status().getEventsList()) {
      boolean suspicion = event.getKind() == ProcessEventKind.HUNG || event.getKind() == ProcessEventKind.NODE_DOWN;
      if (suspicion && event.getAtMillis() > scannedUntil && !event.getArmorId().equals(target)) {
        count++;
        notes.add("false detection: " + event.getKind() + " of " + event.getArmorId() + " (" + event.getDetail() + ")");
      }
    }
    scannedUntil = until;
    return count;
  }

  /** Brings a failed server node back: its old processes gone (noted if any outlived their daemon), a new daemon. */
  private void restoreNode(Fault fault, String node, Optional<Long> daemonPid, List<Long> paused,
      List<String> problems) throws Exception {
    if (fault == Fault.NODE_HANG || fault == Fault.NODE_PAUSE || fault == Fault.NODE_PARTITION
        || fault == Fault.NODE_ONE_WAY) {
      if (fault == Fault.NODE_HANG) {
        kill(daemonPid.orElseThrow(), "CONT");
      } else if (fault == Fault.NODE_PAUSE) {
        for (long pid : paused) {
          if (!gone(pid)) {
            kill(pid, "CONT");
          }
        }
      } else {
        cluster.network().heal(node);
      }
      // A daemon declared lost that wakes up or is heard again must stop itself (fenced) rather than act.
      if (await(() -> gone(daemonPid.get()) ? OptionalLong.of(0) : OptionalLong.empty(), Duration.ofSeconds(30)).isEmpty()) {
        problems.add("the daemon of the lost node did not stop itself within 30 s of "
            + (fault == Fault.NODE_PARTITION || fault == Fault.NODE_ONE_WAY ? "the heal" : "its resumption"));
      }
    }
    if (fault != Fault.NODE_CRASH) {
      // Protected processes must not outlive their daemon: the shim stops them.
      if (await(() -> cluster.network().pids(node).isEmpty() ? OptionalLong.of(0) : OptionalLong.empty(),
          Duration.ofSeconds(15)).isEmpty()) {
        problems.add(cluster.network().pids(node).size() + " process(es) outlived the daemon of " + node + " (killed)");
      }
    }
    List<String> leftovers = cluster.network().killAll(node);
    if (fault != Fault.NODE_CRASH && !leftovers.isEmpty()) {
      problems.add("killed what was left on " + node + ": " + leftovers);
    }
    if (fault == Fault.NODE_CRASH) {
      cluster.network().restore(node);
    }
    if (!lastInjection) {
      cluster.startDaemon(node);
    }
  }

  /**
   * A daemon the cluster declared lost although the fault did not take its node (a false detection: counted as such
   * from the FTM's events) stopped itself, as it must; the suite restarts it, so the run goes on and reports it.
   */
  private void restartSelfStoppedDaemons(List<String> notes) throws Exception {
    for (String node : List.of(SERVER_NODES.get(0), SERVER_NODES.get(1), CLIENT_NODE)) {
      Optional<Long> daemon = cluster.nodePid("daemon-" + node);
      if (daemon.isPresent() && gone(daemon.get()) && !lastInjection) {
        await(() -> cluster.network().pids(node).isEmpty() ? OptionalLong.of(0) : OptionalLong.empty(),
            Duration.ofSeconds(15));
        cluster.network().killAll(node);
        cluster.startDaemon(node);
        notes.add("the daemon of " + node + " had stopped itself (declared lost); restarted");
      }
    }
  }

  private void restartFtmUnlessLast(String node) throws IOException {
    if (!lastInjection) {
      restartFtm(node);
    }
  }

  private void restartFtm(String node) throws IOException {
    String other = node.equals(FTM1) ? FTM2 : FTM1;
    cluster.startFtm(node, Optional.of(other));
  }

  /** The slower client's first byte after the fault, in ms after it; -1 if a client never got one. */
  private long clientsBack(long at) {
    OptionalLong protectedBack = await(() -> protectedClient.firstByteAfterStall(at), RECOVERY_TIMEOUT);
    OptionalLong wrappedBack = await(() -> wrappedClient.firstByteAfterStall(at), Duration.ofSeconds(5));
    if (protectedBack.isEmpty() && wrappedBack.isEmpty()) {
      return -1;
    }
    return Math.max(protectedBack.orElse(0), wrappedBack.orElse(0)) - at;
  }

  /** Waits until the FTM's event log holds an event of this kind for the ARMOR at or after {@code at}. */
  private long awaitEvent(String armorId, ProcessEventKind kind, long at) {
    OptionalLong when = await(() -> {
      Optional<ClusterStatus> status = cluster.status(Duration.ofSeconds(3));
      if (status.isEmpty()) {
        return OptionalLong.empty();
      }
      for (ProcessEvent event : status.get().getEventsList()) {
        if (event.getArmorId().equals(armorId) && event.getKind() == kind && event.getAtMillis() >= at - 50) {
          return OptionalLong.of(event.getAtMillis());
        }
      }
      return OptionalLong.empty();
    }, RECOVERY_TIMEOUT);
    return when.isPresent() ? Math.max(0, when.getAsLong() - at) : -1;
  }

  /** Until the service is up, every daemon reachable, nothing restarting, and both clients receiving. */
  private void awaitSteady() throws IOException {
    OptionalLong steady = await(() -> {
      // A daemon declared lost while the cluster settles (a false detection: its node stalled past its lease) stopped
      // itself; restarted, the run goes on, and the next injection counts the detection from the FTM's events.
      List<String> restarted = new ArrayList<>();
      try {
        restartSelfStoppedDaemons(restarted);
      } catch (Exception e) {
        return OptionalLong.empty();
      }
      restarted.forEach(note -> say(note + " while the suite waited for a steady cluster"));
      Optional<ClusterStatus> status = cluster.status(Duration.ofSeconds(3));
      if (status.isEmpty() || entry(status.get()).map(e -> e.getState() != ServiceState.UP).orElse(true)) {
        return OptionalLong.empty();
      }
      long reachable = status.get().getNodesList().stream().filter(NodeStatus::getReachable).count();
      // Every node's process a member and up in every member's view: the next fault must not find a member still
      // joining somewhere, or each side of a partition counts a different cluster and both may down themselves (the
      // whole cluster went down so, when the minority's restarted FTM process was still joining).
      boolean membersUp = status.get().getConverged()
          && status.get().getMembersCount() == cluster.network().nodes().size()
          && status.get().getMembersList().stream().allMatch(m -> m.getStatus().equals("up") && m.getReachable());
      boolean restarting = status.get().getNodesList().stream().flatMap(n -> n.getProcessesList().stream())
          .anyMatch(p -> !p.getAlive());
      long now = System.currentTimeMillis();
      try {
        boolean receiving = now - protectedClient.lastReport() < 2500 && now - wrappedClient.lastReport() < 2500;
        return reachable >= 3 && membersUp && !restarting && receiving ? OptionalLong.of(now) : OptionalLong.empty();
      } catch (IOException e) {
        return OptionalLong.empty();
      }
    }, STEADY_TIMEOUT);
    if (steady.isEmpty()) {
      throw new IllegalStateException("the cluster did not return to a steady state within " + STEADY_TIMEOUT.toSeconds()
          + " s (service up, three daemons reachable, every node a member and up in every member's view, both clients "
          + "receiving)");
    }
  }

  private ClusterStatus status() {
    return cluster.status(Duration.ofSeconds(5)).orElseThrow(() -> new IllegalStateException("no FTM answers"));
  }

  private Optional<ServiceEntry> entry(ClusterStatus status) {
    return status.getServicesList().stream().filter(e -> e.getService().equals(service)).findFirst();
  }

  private long pidOf(ClusterStatus status, String armorId) {
    for (NodeStatus node : status.getNodesList()) {
      for (ProcessInfo process : node.getProcessesList()) {
        if (process.getArmorId().equals(armorId) && process.getAlive()) {
          return process.getPid();
        }
      }
    }
    throw new IllegalStateException("no live process for ARMOR " + armorId);
  }

  /** Which FTM process (ftm1 or ftm2) runs the FTM singleton now. */
  private String ftmProcessNode(ClusterStatus status) {
    String host = status.getFtmNode();
    return cluster.network().address(FTM2).equals(host) ? FTM2 : FTM1;
  }

  private long serverConnectionLines(String serverArmor) throws IOException {
    Path log = cluster.log(serverArmor);
    if (!Files.exists(log)) {
      return 0;
    }
    return Files.readAllLines(log).stream().filter(l -> l.startsWith("ACCEPTED ") || l.startsWith("CLOSED ")).count();
  }

  private static void kill(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + signal + " " + pid + " failed: " + new String(kill.getInputStream().readAllBytes()));
    }
  }

  private static boolean gone(long pid) {
    return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
  }

  /** Polls every 100 ms until the probe has a value or the timeout passes. */
  static OptionalLong await(IoSupplier probe, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        OptionalLong value = probe.get();
        if (value.isPresent()) {
          return value;
        }
        Thread.sleep(100);
      } catch (IOException e) {
        // not there yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return OptionalLong.empty();
      }
    }
    return OptionalLong.empty();
  }

  /** A probe that may fail while the thing it reads is being rebuilt. */
  interface IoSupplier {
    OptionalLong get() throws IOException;
  }

  private void say(String line) {
    options.out().println("faults: " + line);
  }

  private static String ms(long millis) {
    return millis < 0 ? "never" : "+" + millis + " ms";
  }

  private static Path codeSource() {
    try {
      return Path.of(FaultSuite.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (Exception e) {
      throw new IllegalStateException("cannot find the fault suite's own jar for its apps", e);
    }
  }

  private static void deleteTree(Path root) {
    try (var files = Files.walk(root)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // a leftover temporary directory; nothing to lose
    }
  }
}
