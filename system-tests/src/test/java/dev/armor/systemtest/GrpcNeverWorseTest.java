package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.NeverWorseKit.Kill;
import dev.armor.systemtest.NeverWorseKit.PidSource;
import dev.armor.systemtest.NeverWorseKit.ScriptedClient;
import dev.armor.systemtest.apps.GrpcClient;
import dev.armor.systemtest.apps.GrpcEchoServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14 with gRPC (HTTP/2): an unmodified gRPC-Java server and client (one channel, gRPC's defaults), a unary and a
 * server-streaming call. The server is killed while the channel is idle, while a unary call runs and while a stream
 * runs, once without Armor and once under {@code armor run} (reconnect, the default), and the client must fare no
 * worse under Armor: every call answered or failed with the status code it gets without Armor ({@code UNAVAILABLE},
 * which gRPC's retry policies retry), promptly: at the loss, not after a stall timeout. Before issue 14 a call after
 * a kill failed with {@code INTERNAL} (the new instance got a connection without its preface), which no retry policy
 * retries. Under Armor the client's connection ends with a GOAWAY naming the last stream the lost instance got, so
 * streams opened after it are sent again by gRPC itself, on a new connection to the new instance.
 *
 * <p>Tagged {@code transparency}: {@code scripts/transparency} runs it, {@code mvn verify} does not (its 20 minutes);
 * the relay's {@code Http2RecoveryTest} checks the GOAWAY and its stream id in the suite.
 */
@org.junit.jupiter.api.Tag("transparency")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GrpcNeverWorseTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;
  private static ArmorTestCluster cluster;
  /** When the last scenario killed the server, by step (epoch ms). */
  private final Map<String, Long> killedAt = new java.util.HashMap<>();

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

  /** What the client saw of one call. */
  private record Outcome(String call, String line) {
    boolean ok() {
      return line.startsWith("OK ");
    }

    /** When the call failed (epoch ms). */
    long failedAt() {
      return Long.parseLong(line.replaceFirst(".* at=(\\d+) \\d+$", "$1"));
    }

    long millis() {
      return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
    }

    /** "answered", or the gRPC status code. */
    String kind() {
      return ok() ? "answered" : line.replaceFirst("ERROR code=(\\S+) .*", "$1");
    }
  }

  /** Each JDK under each recovery policy, on ports of their own (a case's server keeps running under Armor). */
  static Stream<Arguments> cases() {
    return Stream.of(Arguments.of("JDK 17", ArmorTestCluster.JDK17, "reconnect", 7641, 7642),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, "reconnect", 7643, 7644),
        Arguments.of("JDK 17", ArmorTestCluster.JDK17, "replay", 7645, 7646),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, "replay", 7647, 7648));
  }

  @ParameterizedTest(name = "{0}, {2}")
  @MethodSource("cases")
  void aGrpcServerKilledIdleAndMidCall_failsItsCallsAsWithoutArmor_promptly_andServesTheNextOnes(String name, Path java,
      String policy, int armorPort, int plainPort) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(java), name + " is not installed at " + java);
    // gRPC and what it needs, from this JVM's class path (Maven resolved them); not the shim, which is an agent
    String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !entry.contains("socket-shim")).collect(Collectors.joining(File.pathSeparator));
    List<String> server = List.of(java.toString(), "-cp", classPath, GrpcEchoServer.class.getName());

    // Without Armor: a plain server process, an unwrapped client.
    List<String> plainCommand = new ArrayList<>(server);
    plainCommand.add("" + plainPort);
    Process[] plain = {NeverWorseKit.startPlain(plainCommand, plainPort)};
    Map<String, Outcome> without;
    try {
      without = scenario(java, null, "127.0.0.1", plainPort, classPath, () -> plain[0].toHandle().pid(), pid -> {
        plain[0].destroyForcibly().waitFor();
        plain[0] = NeverWorseKit.startPlain(plainCommand, plainPort);
      });
    } finally {
      plain[0].destroyForcibly().waitFor();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    List<String> armorCommand = new ArrayList<>(server);
    armorCommand.add("" + armorPort);
    cluster.launchServer("n1", List.of("--recovery", policy), armorCommand);
    String marker = GrpcEchoServer.class.getName() + " " + armorPort;
    Map<String, Outcome> with = scenario(java, "n2", subnet + ".2", armorPort, classPath, () -> cluster.appPid("n1", marker),
        old -> {
          ProcessHandle.of(old).orElseThrow().destroyForcibly();
          Awaitility.await("the gRPC server restarted by Armor").atMost(Duration.ofSeconds(60))
              .until(() -> cluster.appPid("n1", marker), pid -> pid > 0 && pid != old);
        });

    for (String step : with.keySet()) {
      System.out.printf("| gRPC-Java server and client, %s | %s | without Armor: %s, %d ms"
          + " | with Armor: %s, %d ms |%n",
          name + (policy.equals("reconnect") ? "" : ", " + policy), step, without.get(step).kind(), without.get(step).millis(), with.get(step).kind(), with.get(step).millis());
    }
    for (String step : with.keySet()) {
      Outcome armored = with.get(step);
      if (!armored.ok()) {
        assertThat(armored.kind()).as("%s: the status code the client gets without Armor", step)
            .isEqualTo(without.get(step).kind());
      }
    }
    for (String step : List.of("unary call in flight at the kill", "stream in flight at the kill")) {
      assertThat(with.get(step).kind()).as("%s: retryable, as without Armor", step).isEqualTo("UNAVAILABLE");
      // at the loss, not after the recovery stall timeout (5 s) that a re-attached connection would have waited
      assertThat(with.get(step).failedAt() - killedAt.get(step)).as("%s: failed at the loss", step)
          .isLessThan(4_000);
    }
    assertThat(with.get("unary call after an idle kill").ok()).as("the next call on the channel is served").isTrue();
    assertThat(with.get("unary call after the kills").ok()).as("and after calls that failed").isTrue();
    if (policy.equals("reconnect")) {
      assertThat(cluster.log("daemon-n2.log"))
          .as("the client's daemon ended the connections with a GOAWAY").contains("sent the client GOAWAY");
    }
  }

  /**
   * The client's calls around three kills; returns what it saw of each.
   *
   * @param node where the client is wrapped to, or null to run it unwrapped
   */
  private Map<String, Outcome> scenario(Path java, String node, String host, int port, String classPath, PidSource pid,
      Kill kill) throws Exception {
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    try (AppProcess app = cluster.startWithClassPath(node == null ? null : cluster.agentOptions(node),
        java, classPath, GrpcClient.class.getName(), host, "" + port)) {
      app.awaitLine(line -> line.equals("READY") || line.startsWith("Exception"), Duration.ofSeconds(60));
      ScriptedClient client = new ScriptedClient(app);
      assertThat(run(client, "SAY hello").ok()).as("first call: %s", app.lines()).isTrue();

      kill.run(pid.get()); // idle: no call in flight
      outcomes.put("unary call after an idle kill", run(client, "SAY after-idle"));

      long serving = pid.get(); // asked first: it may take a while
      client.send("SAY slow:3000:in-flight");
      Thread.sleep(1000); // the call runs on the server: it answers after 3 s
      killedAt.put("unary call in flight at the kill", System.currentTimeMillis());
      kill.run(serving);
      outcomes.put("unary call in flight at the kill", awaitOutcome(client, "SAY slow"));

      serving = pid.get();
      client.send("COUNT 40");
      client.awaitLine("MESSAGE ");
      Thread.sleep(1000); // the stream runs: 40 messages 100 ms apart
      killedAt.put("stream in flight at the kill", System.currentTimeMillis());
      kill.run(serving);
      outcomes.put("stream in flight at the kill", awaitOutcome(client, "COUNT"));

      outcomes.put("unary call after the kills", run(client, "SAY after"));
      System.out.println("gRPC client of " + host + ":" + port + " (" + (node == null ? "unwrapped" : "wrapped to " + node)
          + "): " + app.lines());
    }
    return outcomes;
  }

  private static Outcome run(ScriptedClient client, String command) throws IOException {
    return new Outcome(command, client.run(command, "OK ", "ERROR "));
  }

  private static Outcome awaitOutcome(ScriptedClient client, String call) {
    return new Outcome(call, client.awaitLine("OK ", "ERROR "));
  }
}
