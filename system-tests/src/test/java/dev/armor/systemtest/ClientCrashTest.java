package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.ReconnectingClient;
import dev.armor.systemtest.apps.TickServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A protected client crashes and its Execution ARMOR restarts it: the server must not notice. An FTM and two
 * daemons as separate JVMs (the shared cluster); a protected {@link TickServer} on n1, a PROTECTED
 * {@link ReconnectingClient} ({@code armor run --node n2}) that connects on start. SIGKILL of the client: it is
 * restarted, its new connection is attached to the connection the server already had (no new accept, no EOF, no
 * reset on the server), and the restarted client receives the server's bytes on it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClientCrashTest {

  private static final int PORT = 7831;
  private static final int GIVE_UP_PORT = 7832;
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void restartedClientTakesOverItsConnectionAndTheServerNoticesNothing() throws Exception {
    String server = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, TickServer.class.getName(), "" + PORT));
    String out = cluster.armorOk(Duration.ofSeconds(90), "run", "--node", "n2", "--",
        ArmorTestCluster.JDK17.toString(), "-cp", ArmorTestCluster.TEST_CLASSES.toString(),
        ReconnectingClient.class.getName(), cluster.host("n1"), "" + PORT);
    String client = out.replaceFirst("(?s).*Execution ARMOR (\\S+) .*", "$1").trim();

    long firstPid = awaitLivePid(client, -1);
    awaitLine(client, "RECV pid=" + firstPid + " TICK conn=1");
    awaitLine(server, "GOT conn=1 HELLO pid=" + firstPid);
    // a process that dies younger than 2 s is restarted after a back-off: let it age (not needed, but faster)
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(firstPid)
        .flatMap(p -> p.info().startInstant()).map(s -> s.isBefore(Instant.now().minusMillis(2500))).orElse(true));

    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(firstPid).orElseThrow().destroyForcibly(); // SIGKILL
    long secondPid = awaitLivePid(client, firstPid);
    awaitLine(client, "RECV pid=" + secondPid + " TICK conn=1");
    long tookOver = System.currentTimeMillis() - killedAt;
    awaitLine(server, "GOT conn=1 HELLO pid=" + secondPid);
    awaitLine(server, "GOT conn=1 PING pid=" + secondPid);
    System.out.println("client killed -> restarted instance receiving on the old connection: " + tookOver + " ms"
        + " (as the test saw it, including its status polling)");
    List<String> relayLines = cluster.log("daemon-n2.log").lines()
        .filter(l -> l.contains("ARMOR " + client)).toList();
    relayLines.forEach(l -> System.out.println("n2 relay: " + l));
    assertThat(relayLines).as("n2's relay kept the connection and gave it to the restarted client")
        .anyMatch(l -> l.contains("orphaned")).anyMatch(l -> l.contains("re-attached to the restarted client app"));

    List<String> serverLog = lines(server);
    assertThat(serverLog.stream().filter(l -> l.startsWith("ACCEPTED")).toList())
        .as("the server accepted no new connection").containsExactly("ACCEPTED conn=1");
    assertThat(serverLog.stream().filter(l -> l.startsWith("EOF") || l.startsWith("RESET")
        || l.startsWith("WRITE-FAILED")).toList()).as("the server saw no EOF, reset or failed write").isEmpty();
    assertThat(lines(client).stream().filter(l -> l.startsWith("ERROR") || l.startsWith("EOF")).toList())
        .as("the client's connections saw no error (the first one was killed, not closed)").isEmpty();
  }

  @Test
  void aClientWhoseArmorGivesUpIsNotHeldForARestartAndItsListenerCloses() throws Exception {
    String server = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, TickServer.class.getName(),
        "" + GIVE_UP_PORT));
    String out = cluster.armorOk(Duration.ofSeconds(90), "run", "--node", "n2", "--max-restarts", "0", "--",
        ArmorTestCluster.JDK17.toString(), "-cp", ArmorTestCluster.TEST_CLASSES.toString(),
        ReconnectingClient.class.getName(), cluster.host("n1"), "" + GIVE_UP_PORT);
    String client = out.replaceFirst("(?s).*Execution ARMOR (\\S+) .*", "$1").trim();
    long pid = awaitLivePid(client, -1);
    awaitLine(client, "RECV pid=" + pid + " TICK conn=1");

    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL; no restart allowed: its ARMOR gives up
    // Held for a restart, the server would see nothing for the hold timeout (60 s); the ARMOR's end resets it now.
    // The server meets the reset in its reader ("RESET") or, as often, in its ticking writer first ("WRITE-FAILED
    // ... reset"), after which its reader sees only the end; an EOF alone would be a normal close, not this.
    awaitLine(server, "a reset of conn=1", l -> l.startsWith("RESET conn=1")
        || l.startsWith("WRITE-FAILED conn=1") && l.contains("reset"));
    long resetAfter = System.currentTimeMillis() - killedAt;
    System.out.println("client killed, its ARMOR gave up -> server's connection reset after " + resetAfter + " ms");
    assertThat(resetAfter).as("well before the 60 s hold timeout").isLessThan(30_000);
    Awaitility.await("n2 closed the listener of " + client).atMost(Duration.ofSeconds(30)).until(() ->
        cluster.log("daemon-n2.log").lines().anyMatch(l -> l.contains("listener for protected client ARMOR " + client
            + " closed: its Execution ARMOR gave up")));
    assertThat(cluster.log("daemon-n2.log").lines().filter(l -> l.contains("ARMOR " + client)))
        .anyMatch(l -> l.contains("will not be restarted"));
  }

  /** The live pid of the process ARMOR {@code armorId} protects, other than {@code not}. */
  private static long awaitLivePid(String armorId, long not) {
    long[] pid = {-1};
    Awaitility.await("a live process of " + armorId + " other than " + not)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> {
          pid[0] = cluster.pidOf(armorId);
          return pid[0] != not;
        });
    return pid[0];
  }

  private static void awaitLine(String armorId, String prefix) {
    awaitLine(armorId, "a line starting with '" + prefix + "'", l -> l.startsWith(prefix));
  }

  private static void awaitLine(String armorId, String what, Predicate<String> line) {
    Awaitility.await(armorId + "'s log has " + what)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> lines(armorId).stream().anyMatch(line));
  }

  private static List<String> lines(String armorId) throws IOException {
    Path log = cluster.home().resolve("logs").resolve(armorId + ".log");
    return Files.exists(log) ? Files.readAllLines(log) : new ArrayList<>();
  }
}
