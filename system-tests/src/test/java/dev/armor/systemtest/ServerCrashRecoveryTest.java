package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The core promise: a protected server killed with SIGKILL comes back, and a client's open connection is
 * re-attached to the new instance. An FTM and two daemons run as separate JVMs (the shared cluster); the server
 * runs under {@code armor run} on n1, the client is wrapped with {@code armor agent-opts} on n2; blocking and NIO
 * apps, and an {@code AsynchronousServerSocketChannel} server with a blocking client, on JDK 17 and JDK 25.
 * Each JDK's three run at once, and are killed together.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServerCrashRecoveryTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
    subnet = cluster.subnet();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The servers' and clients' flavours; the client has no async flavour: it is blocking for an async server. */
  private static final List<String> FLAVOURS = List.of("blocking", "nio", "async");

  static Stream<Arguments> jdks() {
    return Stream.of(
        Arguments.of("JDK 17", ArmorTestCluster.JDK17, 7101),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, 7104));
  }

  /** One protected server of one flavour and the client connected to it. */
  private record Served(String flavour, int port, String armorId, AppProcess client) {}

  /**
   * The three flavours run side by side, each its own service, and each kill round kills all three servers at once:
   * the recoveries overlap as they would after a crash of a node's apps, and the class takes a third of the time.
   */
  @ParameterizedTest(name = "{0}, blocking, NIO and async servers and clients")
  @MethodSource("jdks")
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void clientConnectionsSurviveThreeServerKills(String jdk, Path java, int firstPort) throws Exception {
    assumeTrue(Files.isExecutable(java), jdk + " is not installed at " + java);
    List<CompletableFuture<String>> launching = new ArrayList<>();
    for (int i = 0; i < FLAVOURS.size(); i++) {
      List<String> command = appCommand(java, LineEchoServer.class.getName(), "" + (firstPort + i), "--" + FLAVOURS.get(i));
      launching.add(CompletableFuture.supplyAsync(() -> cluster.launchServer("n1", command)));
    }
    List<Served> served = new ArrayList<>();
    for (int i = 0; i < FLAVOURS.size(); i++) {
      int port = firstPort + i;
      String armorId = launching.get(i).join(); // served: the client's connect must not race the server's bind
      AppProcess client = cluster.startApp("n2", java, LineClient.class.getName(), subnet + ".2", "" + port, "120",
          "--" + FLAVOURS.get(i));
      served.add(new Served(FLAVOURS.get(i), port, armorId, client));
    }
    for (Served s : served) {
      s.client().awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(30));
      assertThat(s.client().lines(l -> l.startsWith("CONNECTED")).get(0))
          .as("%s: the app sees the address it connected to, not the daemon's", s.flavour())
          .contains(subnet + ".2:" + s.port());
    }

    Map<String, List<Long>> killed = new HashMap<>();
    for (int kill = 1; kill <= 3; kill++) {
      Map<String, Long> byArmor = cluster.pidsOf(served.stream().map(Served::armorId).toList());
      Map<String, Long> pids = new HashMap<>();
      for (Served s : served) {
        long pid = byArmor.get(s.armorId());
        assertThat(killed.getOrDefault(s.flavour(), List.of())).as("%s: each kill hits a new server instance", s.flavour())
            .doesNotContain(pid);
        pids.put(s.flavour(), pid);
      }
      long killedAt = System.currentTimeMillis();
      for (Served s : served) {
        ProcessHandle.of(pids.get(s.flavour())).orElseThrow().destroyForcibly(); // SIGKILL
        killed.computeIfAbsent(s.flavour(), f -> new ArrayList<>()).add(pids.get(s.flavour()));
      }
      for (Served s : served) {
        String pid = "" + pids.get(s.flavour());
        // Echoed by a new instance, of a line written after the kill: the connection was re-attached.
        s.client().awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals(pid)
            && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(45));
        List<Map<String, String>> afterKill = s.client().lines(l -> l.startsWith("ECHO")).stream()
            .map(ArmorTestCluster::fields)
            .filter(f -> Long.parseLong(f.get("sent")) >= killedAt && !f.get("pid").equals(pid)).toList();
        assertThat(afterKill)
            .as("%s, kill %d: a line the client wrote while the server was down was held and delivered to the new"
                + " instance", s.flavour(), kill)
            .anyMatch(f -> Long.parseLong(f.get("recv")) - Long.parseLong(f.get("sent")) >= 150);
      }
    }
    List<String> daemonLog = cluster.log("daemon-n2.log").lines().toList();
    for (Served s : served) {
      assertThat(s.client().lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
          .as("%s: the client never sees an error, an EOF or a reset", s.flavour()).isEmpty();
      // One proxy on the path: each re-attachment connected the client's daemon straight to the new instance.
      List<String> reattached = daemonLog.stream()
          .filter(l -> l.contains(" to " + subnet + ".2:" + s.port() + " re-attached to ")).toList();
      assertThat(reattached).as("%s: the client daemon's re-attachments", s.flavour()).hasSize(3)
          .allMatch(l -> l.contains("(direct path: to app at "));
      assertThat(s.client().process().isAlive()).as("%s: the client was never restarted", s.flavour()).isTrue();
    }
  }
}
