package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * Hangs and fencing with real processes: an FTM and two daemons on 127.0.1.1/.2/.3.
 *
 * <ol>
 *   <li>A protected server stopped with SIGSTOP is found hung by its Execution ARMOR (its shim's heartbeats stop),
 *       killed and restarted; a wrapped client's connection goes on without an error or EOF, and the FTM's event
 *       log shows HUNG.
 *   <li>A daemon stopped with SIGSTOP longer than the shim's lease: its protected app halts itself.
 *   <li>A daemon killed with SIGKILL: its protected app (on JDK 25) halts itself within a few seconds.
 * </ol>
 *
 * The tests run in this order because the later ones take daemons away. Every process stopped is continued
 * before it is killed, and everything started is killed when the class ends.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HangAndFencingTest {

  private static final int HUNG_SERVER_PORT = 7811;
  private static final int FENCED_SERVER_PORT = 7812;

  private static ArmorTestCluster cluster;
  /** Processes this class stopped with SIGSTOP and has not continued yet. */
  private static final Set<Long> stopped = ConcurrentHashMap.newKeySet();
  private static String hungServerArmor;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("hang", "127.0.1", 7810, 25810, 2, List.of());
  }

  @AfterAll
  static void stopCluster() {
    for (long pid : stopped) {
      signal("CONT", pid);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aStoppedServer_isFoundHung_killedAndRestarted_andItsClientGoesOn() throws Exception {
    hungServerArmor = cluster.launchServer("n1",
        appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "" + HUNG_SERVER_PORT, "--blocking"));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), "127.0.1.2",
        "" + HUNG_SERVER_PORT, "120", "--blocking");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(30));
    long pid = cluster.pidOf(hungServerArmor);

    long stoppedAt = System.currentTimeMillis();
    signal("STOP", pid);
    stopped.add(pid);

    await("pid " + pid + " (stopped) is killed as hung").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50)).until(() -> !ArmorTestCluster.running(pid));
    stopped.remove(pid);
    long killedAt = System.currentTimeMillis();
    client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + pid)
        && Long.parseLong(fields(line).get("sent")) >= stoppedAt, Duration.ofSeconds(60));
    long resumedAt = System.currentTimeMillis();
    System.out.printf("hang: SIGSTOP at 0 ms, killed as hung by +%d ms, client echoed by the new instance by +%d ms%n",
        killedAt - stoppedAt, resumedAt - stoppedAt);

    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset").isEmpty();
    assertThat(client.process().isAlive()).as("the client was never restarted").isTrue();
    List<ProcessEvent> hung = cluster.status().getEventsList().stream()
        .filter(e -> e.getArmorId().equals(hungServerArmor) && e.getKind() == ProcessEventKind.HUNG
            && e.getPid() == pid).toList();
    assertThat(hung).as("the FTM's event log shows the hang").hasSize(1);
    assertThat(hung.get(0).getDetail()).startsWith("no heartbeat from pid " + pid + " for ");
    assertThat(hung.get(0).getAtMillis()).isBetween(stoppedAt, killedAt + 1000);
    List<String> daemonLog = Files.readAllLines(cluster.home().resolve("logs").resolve("daemon-n1.log"));
    List<String> said = daemonLog.stream().filter(l -> l.contains(hungServerArmor)
        && (l.contains("the process is hung") || l.contains("after the hang was detected"))).toList();
    said.forEach(line -> System.out.println("daemon n1: " + line));
    assertThat(said).as("the daemon says it in an operator's words, with the silence and the restart's timing")
        .anyMatch(l -> l.contains("the process is hung: no heartbeat from pid " + pid + " for ")
            && l.contains("killing pid " + pid + " with SIGKILL"))
        .anyMatch(l -> l.contains("restarted") && l.contains("ms after the hang was detected"));
    client.close();
  }

  @Test
  @Order(2)
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aFrozenDaemon_cannotRenewItsNodeLease_andItsProtectedAppHaltsItselfWhenTheLeaseEnds() throws Exception {
    assertThat(hungServerArmor).as("the first test launched the server on n1").isNotNull();
    long app = cluster.pidOf(hungServerArmor);
    long daemon = cluster.nodePid("daemon-n1");

    long frozenAt = System.currentTimeMillis();
    signal("STOP", daemon);
    stopped.add(daemon);
    try {
      await("the protected app of the frozen daemon halts itself").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50)).until(() -> !ArmorTestCluster.running(app));
      long goneAfter = System.currentTimeMillis() - frozenAt;
      System.out.printf("fencing: daemon n1 frozen at 0 ms, its app pid %d gone by +%d ms (node lease 3000 ms)%n", app,
          goneAfter);
      // The node lease (three members: it applies), not the shim's own 5 s silence rule, ends it.
      assertThat(appLog(hungServerArmor))
          .contains("armor shim: daemon of node n1 is gone (its node lease ran out: the cluster may run this "
              + "process's work elsewhere)")
          .contains("stopping this protected process so it cannot act as an orphan");
    } finally {
      signal("CONT", daemon);
      stopped.remove(daemon);
      ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  @Order(3)
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aKilledDaemon_takesItsProtectedAppWithIt_onJdk25() throws Exception {
    assumeTrue(Files.isExecutable(ArmorTestCluster.JDK25), "JDK 25 is not installed at " + ArmorTestCluster.JDK25);
    String armorId = cluster.launchServer("n2",
        appCommand(ArmorTestCluster.JDK25, LineEchoServer.class.getName(), "" + FENCED_SERVER_PORT, "--nio"));
    long app = cluster.pidOf(armorId);
    long daemon = cluster.nodePid("daemon-n2");

    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(daemon).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown hook runs

    await("the protected app of the killed daemon halts itself").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> !ArmorTestCluster.running(app));
    System.out.printf("fencing: daemon n2 killed at 0 ms, its app pid %d gone by +%d ms%n", app,
        System.currentTimeMillis() - killedAt);
    assertThat(appLog(armorId)).contains("armor shim: daemon of node n2 is gone (its control session ended");
  }

  private static String appLog(String armorId) throws IOException {
    return Files.readString(cluster.home().resolve("logs").resolve(armorId + ".log"));
  }

  private static void signal(String signal, long pid) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, "" + pid).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot send SIG" + signal + " to " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
