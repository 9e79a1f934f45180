package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.systemtest.NeverWorseKit.Outcome;
import dev.armor.systemtest.apps.EpollServer;
import dev.armor.systemtest.apps.LineRequestClient;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14's rule with a Netty server that requires the epoll transport (no NIO fallback, as some apps are written;
 * the shim intercepts Netty's native sockets) and a plain blocking {@code Socket} client of its line protocol, on JDK
 * 17 and 25: the server killed while the client's connection is idle and while a request is in flight, without Armor
 * and under {@code armor run} (reconnect: the echo carries the server's pid, so its replies are not what replay is
 * for). A protocol the relay does not read: the generic rules apply (ARCHITECTURE.md, "Recover with reconnect").
 * Tagged {@code transparency}: {@code scripts/transparency} runs it, {@code mvn verify} does not (the suite's time).
 */
@Tag("transparency")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class NettyEpollNeverWorseTest {

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

  static Stream<Arguments> jdks() {
    return Stream.of(Arguments.of("JDK 17", ArmorTestCluster.JDK17, 7671),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, 7673));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jdks")
  void anEpollServerKilledIdleAndMidRequest_neverHangsItsClient_noWorseThanWithoutArmor(String name, Path java, int port)
      throws Exception {
    assumeTrue(Files.isExecutable(java), name + " is not installed at " + java);
    String classPath = classPath();

    // Without Armor: the server unwrapped on 127.0.0.1, killed and started again by the test; the client unwrapped.
    AppProcess[] plain = {startPlain(java, classPath, port)};
    Map<String, Outcome> without;
    try {
      without = NeverWorseKit.idleAndInFlight(cluster.startWithClassPath(null, java, classPath,
          LineRequestClient.class.getName(), "127.0.0.1", "" + port), "fast", "slow",
          () -> plain[0].lines().contains("SLOW"), () -> {
            plain[0].process().destroyForcibly().waitFor();
            plain[0].close();
            plain[0] = startPlain(java, classPath, port);
          });
    } finally {
      plain[0].close();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    String armorId = cluster.launchServer("n1", List.of("--recovery", "reconnect"),
        List.of(java.toString(), "-cp", classPath, EpollServer.class.getName(), "" + port));
    Map<String, Outcome> with = NeverWorseKit.idleAndInFlight(cluster.startWithClassPath(cluster.agentOptions("n2"),
        java, classPath, LineRequestClient.class.getName(), subnet + ".2", "" + port), "fast", "slow",
        () -> NeverWorseKit.serverSaid(cluster, armorId, "SLOW"), NeverWorseKit.killUnderArmor(cluster, armorId));

    NeverWorseKit.assertNoWorse("Netty epoll server, Socket client, " + name, without, with);
    // The request the killed server had read: the daemon next to it saw it read and never answered, so the client's
    // stream ends at the loss, not after the recovery stall timeout (5 s; before, 6.4-10 s here)
    assertThat(with.get("in flight at the kill").millis()).as("ended at the loss").isLessThan(3_000);
    assertThat(cluster.log("daemon-n2.log")).contains("that it never answered (a request in flight");
  }

  /** The test classes and Netty's jars (the epoll transport and its native library among them). */
  private static String classPath() {
    return ArmorTestCluster.TEST_CLASSES + File.pathSeparator + Arrays.stream(
            System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> entry.contains("/io/netty/")).collect(Collectors.joining(File.pathSeparator));
  }

  private static AppProcess startPlain(Path java, String classPath, int port) throws IOException {
    AppProcess server = cluster.startWithClassPath(null, java, classPath, EpollServer.class.getName(), "" + port);
    server.awaitLine(line -> line.startsWith("LISTENING") || line.startsWith("FAILED"), Duration.ofSeconds(30));
    return server;
  }
}
