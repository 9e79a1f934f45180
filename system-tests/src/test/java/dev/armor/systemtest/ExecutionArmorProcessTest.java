package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
 * Execution ARMORs as processes of their own ({@code armor daemon --execution-armors process}): a protected server
 * runs under an ARMOR process (a JVM apart from its daemon's); a wrapped client on the other node keeps its
 * connection, with traffic, while (a) the app is killed and (b) the ARMOR process itself is killed: the daemon
 * reinstalls the ARMOR with the same id, the old app is gone, the new ARMOR restarts the app, the client's connection
 * goes on. Finally, stopping the daemon stops its ARMOR processes and their apps. The tests run in order on one
 * cluster (FTM on 127.0.4.1, daemons on 127.0.4.2/.3).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExecutionArmorProcessTest {

  private static final int PORT = 7841;
  private static ArmorTestCluster cluster;
  private static String armorId;
  private static AppProcess client;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("execproc", "127.0.4", 7840, 25840, 2, List.of("--execution-armors", "process",
        "--armor-heartbeat-timeout", "3s"));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * The ARMOR process of {@code armorId} started by this cluster's daemons, found by its command line (read from
   * /proc: {@code ProcessHandle.Info} truncates long command lines, and an ARMOR process's class path is long).
   */
  private static Optional<ProcessHandle> armorProcess() {
    return ProcessHandle.allProcesses()
        .filter(p -> {
          try {
            List<String> args = List.of(new String(Files.readAllBytes(Path.of("/proc", "" + p.pid(), "cmdline")),
                StandardCharsets.UTF_8).split("\0"));
            int armor = args.indexOf("--armor");
            return args.contains("dev.armor.execution.process.ExecutionArmorMain") && armor >= 0
                && args.get(armor + 1).equals(armorId) && String.join(" ", args).contains(cluster.home().toString());
          } catch (IOException e) {
            return false; // gone, or not ours
          }
        })
        .filter(p -> ArmorTestCluster.running(p.pid()))
        .findFirst();
  }

  @Test
  @Order(1)
  void protectedServerRunsUnderAnArmorProcessOfItsOwn() throws Exception {
    armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "" + PORT));
    long daemonPid = cluster.nodePid("daemon-n1");
    ProcessHandle armor = armorProcess().orElseThrow(() -> new AssertionError("no ARMOR process for " + armorId));
    assertThat(armor.pid()).as("the Execution ARMOR is a JVM apart from its daemon").isNotEqualTo(daemonPid);
    long appPid = cluster.pidOf(armorId);
    assertThat(ProcessHandle.of(appPid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
        .as("the app is the ARMOR process's child").contains(armor.pid());

    System.out.printf("ARMOR process pid %d resident memory: %s; its daemon's (pid %d): %s%n", armor.pid(),
        residentMemory(armor.pid()), daemonPid, residentMemory(daemonPid));

    client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), "127.0.4.2", "" + PORT, "400");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(60));
  }

  @Test
  @Order(2)
  void appKilled_isRestartedByItsArmorProcess_clientContinues() throws Exception {
    long armorPid = armorProcess().orElseThrow().pid();
    long pid = cluster.pidOf(armorId);
    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    String echo = client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + pid)
        && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(60));
    System.out.printf("app SIGKILL -> client's first echo from the new app: %d ms%n",
        Long.parseLong(fields(echo).get("recv")) - killedAt);
    assertThat(armorProcess().map(ProcessHandle::pid)).as("the same ARMOR process restarted its app").contains(armorPid);
    assertNoClientError();
  }

  @Test
  @Order(3)
  void armorProcessKilled_isReinstalledWithTheSameId_appRestarted_clientContinues() throws Exception {
    ProcessHandle armor = armorProcess().orElseThrow();
    long oldApp = cluster.pidOf(armorId);
    long killedAt = System.currentTimeMillis();
    armor.destroyForcibly(); // SIGKILL the Execution ARMOR process, not its app

    ProcessHandle newArmor = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(ExecutionArmorProcessTest::armorProcess, p -> p.isPresent() && p.get().pid() != armor.pid())
        .orElseThrow();
    String echo = client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + oldApp)
        && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(90));
    long newApp = Long.parseLong(fields(echo).get("pid"));

    assertThat(ArmorTestCluster.running(oldApp)).as("the old app did not survive its ARMOR as an orphan").isFalse();
    assertThat(ProcessHandle.of(newApp).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
        .as("the new app is the new ARMOR process's child").contains(newArmor.pid());
    assertThat(cluster.pidOf(armorId)).as("status shows the new app under the same ARMOR id").isEqualTo(newApp);
    assertNoClientError();

    // Process start instants from /proc are only as exact as the boot time (whole seconds): the daemon's log
    // lines printed below carry the steps' timings.
    System.out.printf("ARMOR process SIGKILL -> client's first echo from the new app +%d ms%n",
        Long.parseLong(fields(echo).get("recv")) - killedAt);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      ClusterStatus status = cluster.status();
      assertThat(status.getEventsList())
          .as("the event log shows the ARMOR's reinstall")
          .anyMatch(e -> e.getArmorId().equals(armorId) && e.getKind() == ProcessEventKind.ARMOR_RESTARTED);
    });
    System.out.printf("ARMOR process killed at %s; the daemon's account:%n",
        java.time.LocalTime.ofInstant(Instant.ofEpochMilli(killedAt), java.time.ZoneId.systemDefault()));
    for (String line : Files.readAllLines(cluster.home().resolve("logs/daemon-n1.log"))) {
      if (line.contains("LocalArmors") && (line.contains(armorId) || line.contains("class-data"))) {
        System.out.println("  " + line);
      }
    }
    for (ProcessEvent event : cluster.status().getEventsList()) {
      if (event.getArmorId().equals(armorId) && event.getAtMillis() >= killedAt) {
        System.out.printf("event +%d ms %s pid %d: %s%n", event.getAtMillis() - killedAt, event.getKind(),
            event.getPid(), event.getDetail());
      }
    }
  }

  @Test
  @Order(4)
  void hungArmorProcess_missesItsHeartbeats_isKilledAndReinstalled_clientContinues() throws Exception {
    ProcessHandle armor = armorProcess().orElseThrow();
    long oldApp = cluster.pidOf(armorId);
    long hungAt = System.currentTimeMillis();
    // SIGSTOP: the ARMOR process hangs (its app goes on serving); only the daemon's heartbeats can tell.
    assertThat(new ProcessBuilder("kill", "-STOP", "" + armor.pid()).start().waitFor()).isZero();

    String echo = client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + oldApp)
        && Long.parseLong(fields(line).get("sent")) >= hungAt, Duration.ofSeconds(90));
    ProcessHandle newArmor = armorProcess().orElseThrow();
    assertThat(newArmor.pid()).as("the hung ARMOR process was replaced").isNotEqualTo(armor.pid());
    assertThat(ArmorTestCluster.running(armor.pid())).as("the hung ARMOR process was killed").isFalse();
    assertThat(ArmorTestCluster.running(oldApp)).as("its app was killed with it").isFalse();
    assertNoClientError();
    System.out.printf("ARMOR process hung (SIGSTOP) -> client's first echo from the new app +%d ms (heartbeat timeout 3 s)%n",
        Long.parseLong(fields(echo).get("recv")) - hungAt);
    for (String line : Files.readAllLines(cluster.home().resolve("logs/daemon-n1.log"))) {
      if (line.contains("LocalArmors") && line.contains(armorId) && line.compareTo(
          java.time.LocalTime.ofInstant(Instant.ofEpochMilli(hungAt), java.time.ZoneId.systemDefault()).toString()) >= 0) {
        System.out.println("  " + line);
      }
    }
  }

  @Test
  @Order(5)
  void daemonStops_itsArmorProcessesAndTheirAppsStopToo() throws Exception {
    ProcessHandle armor = armorProcess().orElseThrow();
    ProcessHandle app = ProcessHandle.of(cluster.pidOf(armorId)).orElseThrow();
    ProcessHandle daemon = ProcessHandle.of(cluster.nodePid("daemon-n1")).orElseThrow();
    daemon.destroy(); // SIGTERM, as armor stop does
    await().atMost(Duration.ofSeconds(60)).until(() -> !ArmorTestCluster.running(daemon.pid()) && !ArmorTestCluster.running(armor.pid()) && !ArmorTestCluster.running(app.pid()));
  }

  @Test
  @Order(6)
  void daemonKilled_itsArmorProcessesSeeTheChannelEnd_andStopWithTheirApps() throws Exception {
    armorId = cluster.launchServer("n2", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7844"));
    ProcessHandle armor = armorProcess().orElseThrow();
    ProcessHandle app = ProcessHandle.of(cluster.pidOf(armorId)).orElseThrow();
    ProcessHandle daemon = ProcessHandle.of(cluster.nodePid("daemon-n2")).orElseThrow();
    daemon.destroyForcibly(); // SIGKILL: the daemon cannot stop anything itself
    await().atMost(Duration.ofSeconds(60)).until(() -> !ArmorTestCluster.running(armor.pid()) && !ArmorTestCluster.running(app.pid()));
  }

  private static String residentMemory(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc", "" + pid, "status")).stream().filter(l -> l.startsWith("VmRSS"))
        .map(l -> l.replaceAll("\\s+", " ")).findFirst().orElse("?");
  }

  private static void assertNoClientError() {
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset").isEmpty();
    assertThat(client.process().isAlive()).as("the client was never restarted").isTrue();
  }

}
