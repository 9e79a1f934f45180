package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A node's loss: its daemon is SIGKILLed (and its app, as a dead node's would be), the cluster downs the node, and
 * the FTM moves the node's server to another node under a new ARMOR id while a client's open connection is held and
 * then re-attached there. Then the FTM itself is killed right after a daemon, and the FTM that takes over on an
 * FTM-capable daemon finishes the recovery, with the server running exactly once.
 *
 * <p>An FTM and four FTM-capable daemons (five members: losing two leaves a majority) on 127.0.2.1-.5, with the
 * detection lowered through the new options (stable-after 3 s) to keep the test short.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeFailureMigrationTest {

  private static final String SUBNET = "127.0.2";
  private static final int FTM_PORT = 7820;
  private static final int CONTROL_PORT = 7821;
  private static final int CLUSTER_PORT = 25820;
  private static final List<String> DETECTION = List.of("--detection-pause", "2s", "--stable-after", "3s");
  private static final List<String> DAEMON_OPTIONS = options(
      List.of("--ftm-capable", "--control-port", "" + CONTROL_PORT, "--hold-timeout", "180s"), DETECTION);

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("migrate", SUBNET, FTM_PORT, CLUSTER_PORT, 4, DAEMON_OPTIONS, DETECTION);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void serverOnALostNode_movesToAnotherNode_andTheClientsConnectionContinues_andTheRestartedDaemonTakesNewWork()
      throws Exception {
    String service = SUBNET + ".2:7825";
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7825"));
    AppProcess client = cluster.startApp("n4", ArmorTestCluster.JDK17, LineClient.class.getName(), SUBNET + ".2", "7825", "600");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(60));
    long serverPid = cluster.pidOf(armorId);

    long killedAt = System.currentTimeMillis();
    killNode("n1");

    String echo = client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + serverPid)
        && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(120));
    System.out.println("first echo from the moved server " + (System.currentTimeMillis() - killedAt)
        + " ms after the kill: " + echo);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset").isEmpty();

    ClusterStatus status = cluster.status();
    ServiceEntry entry = service(status, service);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getNode()).as("served on another node").isNotEqualTo("n1");
    assertThat(entry.getArmorId()).as("under a new ARMOR id").isNotEqualTo(armorId).startsWith("exec-" + entry.getNode() + "-");
    assertThat(entry.getIncarnation()).isEqualTo(2);
    assertThat(status.getEventsList()).anyMatch(e -> e.getKind() == ProcessEventKind.NODE_DOWN && e.getNode().equals("n1"));
    assertThat(status.getEventsList()).anyMatch(e -> e.getKind() == ProcessEventKind.MIGRATING
        && e.getArmorId().equals(armorId) && e.getDetail().contains(entry.getArmorId()));
    assertThat(status.getNodesList()).extracting(NodeStatus::getNode).doesNotContain("n1");
    assertThat(status.getNodesList()).allMatch(n -> n.getHeartbeatAgeMillis() >= 0);

    // n1's daemon comes back: it registers again and takes new work.
    List<String> restart = new ArrayList<>(List.of("daemon", "--node", "n1", "--host", SUBNET + ".2", "--join",
        cluster.ftm(), "--cluster-port", "" + CLUSTER_PORT, "--detach"));
    restart.addAll(DAEMON_OPTIONS);
    cluster.armorOk(Duration.ofSeconds(120), restart.toArray(String[]::new));
    Awaitility.await("n1 registered again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> cluster.status().getNodesList().stream().anyMatch(n -> n.getNode().equals("n1") && n.getReachable()));
    String again = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7826"));
    assertThat(again).startsWith("exec-n1-");
    assertThat(service(cluster.status(), SUBNET + ".2:7826").getState()).isEqualTo(ServiceState.UP);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF"))).isEmpty();
    client.close();
  }

  @Test
  @Order(2)
  void ftmKilledRightAfterADaemon_theFtmThatTakesOverFinishesTheRecovery_andTheServerRunsOnce() throws Exception {
    String service = SUBNET + ".4:7827";
    // The environment goes with the work: the FTM that takes over reads it from the replicated rows, where it is sealed
    // with the cluster's tables key (docs/SECURITY.md, "Launch environments").
    String secret = "ARMOR_TEST_SECRET=moved-with-its-work-" + System.nanoTime();
    String armorId = cluster.launchServer("n3", List.of("--env", secret),
        appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7827"));
    AppProcess client = cluster.startApp("n4", ArmorTestCluster.JDK17, LineClient.class.getName(), SUBNET + ".4", "7827", "600");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(60));
    long serverPid = cluster.pidOf(armorId);
    long ftmPid = cluster.nodePid("ftm-" + SUBNET + ".1-" + FTM_PORT);
    // From now on the CLI asks the FTM-capable daemons (the FTM process is about to die); the first that answers.
    cluster.useFtm(String.join(",", SUBNET + ".1:" + FTM_PORT, SUBNET + ".2:" + CONTROL_PORT,
        SUBNET + ".3:" + CONTROL_PORT, SUBNET + ".5:" + CONTROL_PORT));

    long killedAt = System.currentTimeMillis();
    killNode("n3");
    kill(ftmPid); // before the FTM could even notice n3's loss

    String echo = client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + serverPid)
        && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(180));
    System.out.println("first echo from the moved server " + (System.currentTimeMillis() - killedAt)
        + " ms after the kills: " + echo);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset").isEmpty();

    ClusterStatus status = cluster.status();
    assertThat(status.getFtmNode()).as("the FTM moved to an FTM-capable daemon").isNotEqualTo(SUBNET + ".1");
    ServiceEntry entry = service(status, service);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getNode()).isNotIn("n3");
    assertThat(entry.getArmorId()).isNotEqualTo(armorId);
    assertThat(status.getEventsList()).anyMatch(e -> e.getKind() == ProcessEventKind.MIGRATING && e.getArmorId().equals(armorId));
    String environ = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", "" + cluster.pidOf(entry.getArmorId()),
        "environ"), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(List.of(environ.split("\0"))).as("the moved server's environment").contains(secret);

    // Exactly one server for the service, and it stays so (no second install by a reconciliation).
    Awaitility.await("exactly one live server for " + service)
        .atMost(Duration.ofSeconds(60)).during(Duration.ofSeconds(5)).pollInterval(Duration.ofSeconds(1))
        .until(() -> liveServers("7827") == 1);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF"))).isEmpty();
    client.close();
  }

  @Test
  @Order(3)
  void daemonKilledAndRestartedAtOnce_itsOldArmorsWorkRunsAgainExactlyOnce_andItRegistersAgain() throws Exception {
    String service = SUBNET + ".2:7828";
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7828"));
    long daemonPid = cluster.nodePid("daemon-n1");

    killNode("n1");
    // Restarted before the cluster could decide: the new incarnation's join removes the old one.
    List<String> restart = new ArrayList<>(List.of("daemon", "--node", "n1", "--host", SUBNET + ".2", "--join",
        cluster.ftm(), "--cluster-port", "" + CLUSTER_PORT, "--detach"));
    restart.addAll(DAEMON_OPTIONS);
    cluster.armorOk(Duration.ofSeconds(120), restart.toArray(String[]::new));

    Awaitility.await(service + " served again under a new ARMOR id").atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
        .until(() -> {
          ServiceEntry entry = service(cluster.status(), service);
          return entry.getState() == ServiceState.UP && !entry.getArmorId().equals(armorId);
        });
    Awaitility.await("exactly one live server for " + service)
        .atMost(Duration.ofSeconds(60)).during(Duration.ofSeconds(5)).pollInterval(Duration.ofSeconds(1))
        .until(() -> liveServers("7828") == 1);
    ClusterStatus status = cluster.status();
    assertThat(status.getNodesList()).anyMatch(n -> n.getNode().equals("n1") && n.getReachable()
        && n.getPid() != daemonPid);
    assertThat(status.getEventsList()).anyMatch(e -> e.getKind() == ProcessEventKind.MIGRATING && e.getArmorId().equals(armorId));
  }

  @Test
  @Order(4)
  void theFtmsNodeFrozen_andResumedAfterItWasDeclaredLost_restartsNothingOfWhatMovedAway() throws Exception {
    // The hardest node to freeze is the one that hosts the FTM: resumed, that FTM does not know yet that the others
    // downed its node and that a new FTM moved the work, and it is the one the node's ARMOR asks.
    ClusterStatus before = cluster.status();
    String host = before.getFtmNode();
    String node = before.getNodesList().stream().filter(n -> n.getHost().equals(host)).map(NodeStatus::getNode)
        .findFirst().orElseThrow(() -> new AssertionError("the FTM runs on no daemon's host: " + before));
    String service = host + ":7829";
    String armorId = cluster.launchServer(node, appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7829"));
    long appPid = cluster.pidOf(armorId);
    long daemonPid = cluster.nodePid("daemon-" + node);

    signal("STOP", daemonPid); // its app halts itself once its beats go unanswered for the shim's lease
    try {
      Awaitility.await(service + " moved away from the frozen " + node).atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
          .until(() -> {
            ServiceEntry entry = service(cluster.status(), service);
            return entry.getState() == ServiceState.UP && !entry.getNode().equals(node);
          });
      Awaitility.await("the frozen node's app halted itself").atMost(Duration.ofSeconds(30))
          .until(() -> !ArmorTestCluster.running(appPid)); // a zombie until its frozen daemon reaps it
    } finally {
      signal("CONT", daemonPid);
    }

    // Resumed, the node's ARMOR sees its app's fenced exit and asks the FTM. Its own node's FTM cannot get a
    // majority's acknowledgement (the others quarantined the downed member), the new FTM knows the work moved:
    // either way it restarts nothing, and the one server stays the one that took over.
    Awaitility.await("exactly one live server for " + service)
        .atMost(Duration.ofSeconds(60)).during(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(200))
        .until(() -> liveServers("7829") == 1);
    java.nio.file.Path log = cluster.home().resolve("logs").resolve("daemon-" + node + ".log");
    List<String> lines = java.nio.file.Files.readAllLines(log).stream().filter(l -> l.contains(armorId)).toList();
    lines.forEach(line -> System.out.println("daemon " + node + ": " + line));
    assertThat(lines).as(node + " never restarted the work that moved away")
        .noneMatch(l -> l.contains("RESTARTING -> RUNNING") || l.contains("restarted (restart"));
  }

  private static void signal(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, "" + pid).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  /** Live processes running LineEchoServer on {@code port}, anywhere on this machine (every node is local here). */
  private static long liveServers(String port) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().arguments().map(a -> List.of(a).contains(LineEchoServer.class.getName())
            && List.of(a).contains(port)).orElse(false))
        .count();
  }

  private static ServiceEntry service(ClusterStatus status, String service) {
    return status.getServicesList().stream().filter(s -> s.getService().equals(service)).findFirst()
        .orElseThrow(() -> new AssertionError("no APP_SERVER_DB row for " + service + " in " + status.getServicesList()));
  }

  /**
   * A node's loss: its daemon and every process it started, SIGKILLed (a lost node's processes are gone with it; until
   * the shim fences an app whose daemon died, the test kills the apps itself).
   */
  private static void killNode(String node) throws java.io.IOException {
    long daemonPid = cluster.nodePid("daemon-" + node);
    List<ProcessHandle> apps = ProcessHandle.of(daemonPid).map(p -> p.descendants().toList()).orElse(List.of());
    kill(daemonPid);
    apps.forEach(ProcessHandle::destroyForcibly);
  }

  private static void kill(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
  }

  private static List<String> options(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
