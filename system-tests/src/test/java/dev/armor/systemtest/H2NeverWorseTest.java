package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.NeverWorseKit.ScriptedClient;
import dev.armor.systemtest.apps.JdbcClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14 with a real database server with persistent state: H2 in server mode (unmodified, from Maven), its own
 * JDBC driver as the client, one connection as an app without a pool has. The server is killed while the connection
 * is idle and while a statement runs, once without Armor and once under {@code armor run} (reconnect, the default;
 * the campaign adds JDK 25: {@link #cases}),
 * and the client must fare no worse under Armor: no hang (every statement gets an answer or an error within the
 * stall timeout and a restart), the same kind of error, and no insert executed twice (the table has no key, so a
 * second execution would show as a second row). Before issue 14, the JDBC client hung forever on its next statement.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class H2NeverWorseTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;
  /** A committed statement is on disk when it returns (H2 writes behind by 500 ms otherwise: a kill loses it). */
  private static final String DATABASE = "/test;WRITE_DELAY=0";
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

  /** What the client saw of one statement. */
  private record Outcome(String statement, String line) {
    boolean ok() {
      return line.startsWith("OK ");
    }

    long millis() {
      return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
    }

    /** "answered", or the exception's class and SQLState. */
    String kind() {
      return ok() ? "answered" : line.replaceFirst("ERROR type=(\\S+) sqlstate=(\\S+) .*", "$1 ($2)");
    }

    /** "answered", or the exception's class: what a pool or an app's handler acts on. */
    String exceptionClass() {
      return kind().replaceFirst(" \\(.*", "");
    }
  }

  /**
   * JDK 17 in the suite; with {@code -Darmor.test.transparency=true} ({@code scripts/transparency}) JDK 25 too. Not
   * the replay policy: it is not for a database with persistent state (README), and measured it runs a connection's
   * inserts again at each recovery (insert 1 three times over two kills: docs/TRANSPARENCY.md). Each case on ports of
   * its own (its server keeps running under Armor).
   */
  static Stream<Arguments> cases() {
    Stream<Arguments> suite = Stream.of(Arguments.of("JDK 17", ArmorTestCluster.JDK17, "reconnect", 7631, 7632));
    if (!Boolean.getBoolean("armor.test.transparency")) {
      return suite;
    }
    return Stream.concat(suite, Stream.of(Arguments.of("JDK 25", ArmorTestCluster.JDK25, "reconnect", 7661, 7662)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aDatabaseServerKilledIdleAndMidStatement_neverHangsItsClient_noWorseThanWithoutArmor(String name, Path jdk,
      String policy, int armorPort, int plainPort, @TempDir Path dir) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jdk), name + " is not installed at " + jdk);
    String h2 = Path.of(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    // The test classes too: StatementProbe, the function the in-flight statement calls
    List<String> server = List.of(jdk.toString(), "-cp",
        h2 + java.io.File.pathSeparator + ArmorTestCluster.TEST_CLASSES, "org.h2.tools.Server", "-tcp",
        "-tcpAllowOthers", "-ifNotExists", "-baseDir");
    Path running = dir.resolve("statement-running");

    // Without Armor: a plain server process, an unwrapped client.
    List<String> plainCommand = new ArrayList<>(server);
    plainCommand.addAll(List.of(dir.resolve("plain").toString(), "-tcpPort", "" + plainPort));
    Process[] plain = {NeverWorseKit.startPlain(plainCommand, plainPort)};
    Map<String, Outcome> without;
    try {
      without = scenario(jdk, null, "jdbc:h2:tcp://127.0.0.1:" + plainPort + DATABASE, h2, running,
          () -> plain[0].toHandle().pid(), pid -> {
            plain[0].destroyForcibly().waitFor();
            plain[0] = NeverWorseKit.startPlain(plainCommand, plainPort);
          });
    } finally {
      plain[0].destroyForcibly().waitFor();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    List<String> armorCommand = new ArrayList<>(server);
    armorCommand.addAll(List.of(dir.resolve("armor").toString(), "-tcpPort", "" + armorPort));
    long launched = System.nanoTime();
    String armorId = cluster.launchServer("n1", List.of("--recovery", policy), armorCommand);
    long startMillis = (System.nanoTime() - launched) / 1_000_000;
    Map<String, Outcome> with = scenario(jdk, "n2", "jdbc:h2:tcp://" + subnet + ".2:" + armorPort + DATABASE, h2, running,
        () -> cluster.appPid("n1", "-tcpPort " + armorPort), old -> {
          ProcessHandle.of(old).orElseThrow().destroyForcibly();
          Awaitility.await("H2 restarted by Armor").atMost(Duration.ofSeconds(60))
              .until(() -> cluster.appPid("n1", "-tcpPort " + armorPort), pid -> pid > 0 && pid != old);
        });

    System.out.printf("H2 server mode, JDBC client (one connection): launch to bound under Armor %d ms%n", startMillis);
    for (String step : with.keySet()) {
      System.out.printf("| H2 server and JDBC client, %s | %s | without Armor: %s, %d ms"
          + " | with Armor: %s, %d ms |%n",
          name + (policy.equals("reconnect") ? "" : ", " + policy), step, without.get(step).kind(),
          without.get(step).millis(), with.get(step).kind(), with.get(step).millis());
    }
    // H2 checks itself at start by connecting to its own port at localhost: that connect must reach the service (it
    // is routed through n1's daemon, as a client of its own) rather than time out (before, about 16 s on every start)
    assertThat(cluster.log("daemon-n1.log"))
        .contains("service " + subnet + ".2:" + armorPort + ": connections of protected client ARMOR " + armorId
            + " accepted on");
    // The statement in flight at the kill: its client's stream ended at the loss, as the crash ends it without Armor
    // (before, the connection was re-attached and ended only after the recovery stall timeout, 5 s later), because
    // the daemon next to the server saw the statement read and never answered
    if (policy.equals("reconnect")) {
      assertThat(cluster.log("daemon-n2.log"))
          .contains("the lost instance had read bytes of its client's that it never answered (a request in flight")
          .contains("the client's stream ended at once");
    }
    for (String step : List.of("after an idle kill", "in flight at the kill")) {
      Outcome armored = with.get(step);
      assertThat(armored.millis()).as("%s: an answer or an error, not a hang", step).isLessThan(12_000);
      if (!armored.ok()) {
        assertThat(armored.exceptionClass()).as("%s: an error of the kind the client gets without Armor", step)
            .isEqualTo(without.get(step).exceptionClass());
      }
    }
    assertThat(with.get("on a new connection").ok()).as("the client's own reconnect works at once").isTrue();
  }

  /**
   * The client's statements around two kills; returns what it saw of each, and checks that no insert ran twice.
   *
   * @param node where the client is wrapped to, or null to run it unwrapped
   */
  private Map<String, Outcome> scenario(Path jdk, String node, String url, String h2, Path running, NeverWorseKit.PidSource pid,
      NeverWorseKit.Kill kill)
      throws Exception {
    String classPath = ArmorTestCluster.TEST_CLASSES + java.io.File.pathSeparator + h2;
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    try (AppProcess app = cluster.startWithClassPath(node == null ? null : cluster.agentOptions(node),
        jdk, classPath, JdbcClient.class.getName(), url)) {
      app.awaitLine(line -> line.equals("READY") || line.startsWith("Exception"), Duration.ofSeconds(60));
      ScriptedClient client = new ScriptedClient(app);
      run(client, "CREATE TABLE IF NOT EXISTS T(V INT)");
      run(client, "CREATE ALIAS IF NOT EXISTS SLEEP FOR 'dev.armor.systemtest.apps.StatementProbe.sleep'");
      assertThat(run(client, "INSERT INTO T VALUES(1)").ok()).isTrue();

      kill.run(pid.get()); // idle: the connection is between statements
      outcomes.put("after an idle kill", run(client, "INSERT INTO T VALUES(2)"));

      long serving = pid.get(); // asked first: under Armor that is a status call, a JVM start
      Files.deleteIfExists(running);
      client.send("INSERT INTO T SELECT 3 WHERE SLEEP(3000, '" + running + "') IS NULL");
      Awaitility.await("the statement runs on the server").atMost(Duration.ofSeconds(30))
          .until(() -> Files.exists(running));
      Thread.sleep(1000); // the statement has run for a second (it sleeps 3 s before it inserts): in flight
      kill.run(serving);
      outcomes.put("in flight at the kill", awaitOutcome(client, "INSERT 3"));

      outcomes.put("on a new connection", run(client, "INSERT INTO T VALUES(4)"));
      for (int value = 1; value <= 4; value++) {
        client.send("COUNT T WHERE V = " + value);
        String count = client.awaitLine("ROWS", "ERROR ");
        assertThat(count).as("counting inserts of %d (url %s)", value, url).startsWith("ROWS ");
        int rows = Integer.parseInt(count.substring(5));
        assertThat(rows).as("insert %d ran at most once (url %s)", value, url).isLessThanOrEqualTo(1);
      }
      System.out.println("client of " + url + " (" + (node == null ? "unwrapped" : "wrapped to " + node) + "): "
          + app.lines());
    }
    return outcomes;
  }

  private static Outcome run(ScriptedClient client, String sql) throws IOException {
    return new Outcome(sql, client.run(sql, "OK ", "ERROR "));
  }

  private static Outcome awaitOutcome(ScriptedClient client, String statement) {
    return new Outcome(statement, client.awaitLine("OK ", "ERROR "));
  }
}
