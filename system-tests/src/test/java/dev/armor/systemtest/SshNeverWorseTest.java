package dev.armor.systemtest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.systemtest.NeverWorseKit.Outcome;
import dev.armor.systemtest.apps.SlowSshServer;
import dev.armor.systemtest.apps.SshCommandClient;
import java.io.File;
import java.io.IOException;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14's rule with a server that speaks first: Apache MINA SSHD's server and client, on JDK 17 and 25, the server
 * killed while the client's session is idle and while a command runs, without Armor and under {@code armor run} with
 * each recovery policy. An SSH session cannot move to another instance (keys exchanged with the lost one), so Armor
 * resets the client's connection at the loss; the client then does what it does without Armor. Tagged {@code transparency}:
 * {@code scripts/transparency} runs it, {@code mvn verify} does not (the suite's time).
 */
@Tag("transparency")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SshNeverWorseTest {

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

  /** Each JDK under each recovery policy, on ports of its own (a case's server keeps running under Armor). */
  static Stream<Arguments> jdks() {
    return Stream.of(Arguments.of("JDK 17, reconnect", ArmorTestCluster.JDK17, 7631, "reconnect"),
        Arguments.of("JDK 25, reconnect", ArmorTestCluster.JDK25, 7633, "reconnect"),
        Arguments.of("JDK 17, replay", ArmorTestCluster.JDK17, 7635, "replay"),
        Arguments.of("JDK 25, replay", ArmorTestCluster.JDK25, 7637, "replay"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jdks")
  void anSshServerKilledIdleAndMidCommand_neverHangsItsClient_noWorseThanWithoutArmor(String name, Path java, int port,
      String policy) throws Exception {
    assumeTrue(Files.isExecutable(java), name + " is not installed at " + java);
    String classPath = classPath();
    Path hostKey = cluster.home().resolve("ssh-host-key-" + port);

    // Without Armor: the server unwrapped on 127.0.0.1, killed and started again by the test; the client unwrapped.
    AppProcess[] plain = {startPlain(java, classPath, port, hostKey)};
    Map<String, Outcome> without;
    try {
      without = NeverWorseKit.idleAndInFlight(cluster.startWithClassPath(null, java, classPath,
          SshCommandClient.class.getName(), "127.0.0.1", "" + port), "fast", "slow",
          () -> plain[0].lines().contains("SLOW"), () -> {
            plain[0].process().destroyForcibly().waitFor();
            plain[0].close();
            plain[0] = startPlain(java, classPath, port, hostKey);
          });
    } finally {
      plain[0].close();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    List<String> server = new ArrayList<>(List.of(java.toString(), "-cp", classPath, SlowSshServer.class.getName(),
        "" + port, hostKey.toString()));
    String armorId = cluster.launchServer("n1", List.of("--recovery", policy), server);
    Map<String, Outcome> with = NeverWorseKit.idleAndInFlight(cluster.startWithClassPath(cluster.agentOptions("n2"),
        java, classPath, SshCommandClient.class.getName(), subnet + ".2", "" + port), "fast", "slow",
        () -> NeverWorseKit.serverSaid(cluster, armorId, "SLOW"),
        NeverWorseKit.killUnderArmor(cluster, armorId));

    NeverWorseKit.assertNoWorse("Apache MINA SSHD server and client, " + name, without, with);
  }

  /** The test classes and MINA SSHD's jars (core, common, and the SLF4J API they log to). */
  private static String classPath() throws Exception {
    List<String> entries = new ArrayList<>(List.of(ArmorTestCluster.TEST_CLASSES.toString()));
    for (Class<?> type : List.of(org.apache.sshd.server.SshServer.class,
        org.apache.sshd.common.util.GenericUtils.class, org.slf4j.Logger.class)) {
      entries.add(Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
    }
    return String.join(File.pathSeparator, entries);
  }

  private static AppProcess startPlain(Path java, String classPath, int port, Path hostKey) throws IOException {
    AppProcess server = cluster.startWithClassPath(null, java, classPath, SlowSshServer.class.getName(), "" + port,
        hostKey.toString());
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(30));
    return server;
  }
}
