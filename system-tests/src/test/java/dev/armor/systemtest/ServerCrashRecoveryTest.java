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
import java.util.List;
import java.util.Map;
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
 * re-attached to the new instance. An FTM and two daemons run as separate JVMs on 127.0.7.1/.2/.3; the server
 * runs under {@code armor run} on n1, the client is wrapped with {@code armor agent-opts} on n2; blocking and NIO
 * apps, and an {@code AsynchronousServerSocketChannel} server with a blocking client, on JDK 17 and JDK 25.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServerCrashRecoveryTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.7";

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("crash", SUBNET, 7801, 25801, 2, List.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Stream<Arguments> apps() {
    return Stream.of(
        Arguments.of("JDK 17", ArmorTestCluster.JDK17, "blocking", 7101),
        Arguments.of("JDK 17", ArmorTestCluster.JDK17, "nio", 7102),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, "blocking", 7103),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, "nio", 7104),
        Arguments.of("JDK 17", ArmorTestCluster.JDK17, "async", 7105),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, "async", 7106));
  }

  @ParameterizedTest(name = "{0}, {2} server and client")
  @MethodSource("apps")
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void clientConnectionSurvivesThreeServerKills(String jdk, Path java, String flavour, int port) throws Exception {
    assumeTrue(Files.isExecutable(java), jdk + " is not installed at " + java);
    String nio = "--" + flavour; // the client has no async flavour: it is blocking for an async server
    String armorId = cluster.launchServer("n1", appCommand(java, LineEchoServer.class.getName(), "" + port, nio));
    AppProcess client = cluster.startApp("n2", java, LineClient.class.getName(), SUBNET + ".2", "" + port, "120", nio);
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(30));
    assertThat(client.lines(l -> l.startsWith("CONNECTED")).get(0))
        .as("the app sees the address it connected to, not the daemon's")
        .contains(SUBNET + ".2:" + port);

    List<Long> killed = new ArrayList<>();
    for (int kill = 1; kill <= 3; kill++) {
      long pid = cluster.pidOf(armorId);
      assertThat(killed).as("each kill hits a new server instance").doesNotContain(pid);
      long killedAt = System.currentTimeMillis();
      ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL
      killed.add(pid);
      // Echoed by a new instance, of a line written after the kill: the connection was re-attached.
      client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + pid)
          && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(45));
      List<Map<String, String>> afterKill = client.lines(l -> l.startsWith("ECHO")).stream().map(ArmorTestCluster::fields)
          .filter(f -> Long.parseLong(f.get("sent")) >= killedAt && !f.get("pid").equals("" + pid)).toList();
      assertThat(afterKill)
          .as("a line the client wrote while the server was down was held and delivered to the new instance")
          .anyMatch(f -> Long.parseLong(f.get("recv")) - Long.parseLong(f.get("sent")) >= 150);
    }
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset").isEmpty();
    // One proxy on the path: each re-attachment connected the client's daemon straight to the new instance.
    List<String> reattached = Files.readAllLines(cluster.home().resolve("logs").resolve("daemon-n2.log")).stream()
        .filter(l -> l.contains(" to " + SUBNET + ".2:" + port + " re-attached to ")).toList();
    assertThat(reattached).as("the client daemon's re-attachments").hasSize(3)
        .allMatch(l -> l.contains("(direct path: to app at "));
    assertThat(client.process().isAlive()).as("the client was never restarted").isTrue();
  }
}
