package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.HttpRequestClient;
import dev.armor.systemtest.apps.SlowHttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Issue 14's rule with real, unmodified third-party parts: the JDK's {@code HttpServer} under {@code armor run
 * --recovery reconnect}, the JDK's {@code HttpClient} (its defaults: no request timeout) wrapped on another node.
 * A request in flight when the server is killed never hangs (before, it waited forever: the new instance never saw
 * it): Armor resets the connection after the recovery stall timeout, as the crash would have, and then the client
 * does what it would do without Armor, against a server that is back: a GET is retried by the client and answered by
 * the new instance (the client sees nothing), a POST fails with an {@code IOException} (never executed twice). A
 * keep-alive connection idle at the kill carries the next request to the new instance with no error at all.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HttpNeverWorseTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.14";
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("http-never-worse", SUBNET, 7806, 25806, 2, List.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private record Served(String armorId, AppProcess client) {}

  /**
   * The server under reconnect on n1 at {@code port}, a client on n2 whose first GET /fast was answered (its
   * keep-alive connection is open).
   */
  private static Served serveAndAskOnce(String port) throws IOException {
    String armorId = cluster.launchServer("n1", List.of("--recovery", "reconnect"),
        appCommand(ArmorTestCluster.JDK17, SlowHttpServer.class.getName(), port));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, HttpRequestClient.class.getName(),
        SUBNET + ".2", port);
    client.awaitLine(line -> line.equals("READY"), Duration.ofSeconds(30));
    request(client, "/fast");
    assertThat(awaitResult(client, "/fast", 1, Duration.ofSeconds(30))).startsWith("ANSWERED /fast fast");
    return new Served(armorId, client);
  }

  private static void request(AppProcess client, String path) throws IOException {
    OutputStream commands = client.process().getOutputStream();
    commands.write((path + "\n").getBytes(StandardCharsets.UTF_8));
    commands.flush();
  }

  private static String awaitResult(AppProcess client, String path, int nth, Duration timeout) {
    client.awaitLine(line -> results(client, path).size() >= nth, timeout);
    return results(client, path).get(nth - 1);
  }

  private static List<String> results(AppProcess client, String path) {
    return client.lines(line -> line.startsWith("ANSWERED " + path + " ") || line.startsWith("ERROR " + path + " "));
  }

  private static void kill(long pid) {
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
  }

  private static void awaitRestart(String armorId, long oldPid) {
    org.awaitility.Awaitility.await("a new server instance listens").atMost(Duration.ofSeconds(60))
        .ignoreExceptions().until(() -> cluster.listeningPid(armorId), pid -> pid != oldPid);
  }

  @Test
  void aRequestInFlightAtTheKillNeverHangs_aGetIsRetriedByTheClient_aPostFails() throws Exception {
    Served served = serveAndAskOnce("7611");
    String armorId = served.armorId();
    AppProcess client = served.client();

    long killed = cluster.pidOf(armorId); // looked up first: `armor status` takes a JVM start
    request(client, "/slow"); // answered after 3 s: killed before that
    Thread.sleep(1000);
    kill(killed);
    String get = awaitResult(client, "/slow", 1, Duration.ofSeconds(40));
    assertThat(get).as("retried by the client on a new connection, answered by the new instance")
        .startsWith("ANSWERED /slow slow");
    assertThat(millisOf(get)).as("the stall timeout (5 s), the retry and its 3 s answer: not forever")
        .isLessThan(20_000);

    awaitRestart(armorId, killed);
    killed = cluster.pidOf(armorId);
    request(client, "POST /slow");
    Thread.sleep(1000);
    kill(killed);
    String post = awaitResult(client, "POST /slow", 1, Duration.ofSeconds(40));
    assertThat(post).as("an error, as without Armor; a POST is not retried, so it ran at most once")
        .startsWith("ERROR POST /slow type=java.io.IOException");
    assertThat(millisOf(post)).as("the stall timeout, not forever").isLessThan(15_000);

    awaitRestart(armorId, killed);
    request(client, "/fast");
    assertThat(awaitResult(client, "/fast", 2, Duration.ofSeconds(30))).startsWith("ANSWERED /fast fast");
  }

  private static long millisOf(String result) {
    return Long.parseLong(result.substring(result.lastIndexOf(' ') + 1));
  }

  @Test
  void aKeepAliveConnectionIdleAtTheKillCarriesTheNextRequestWithoutAnError() throws Exception {
    Served served = serveAndAskOnce("7612");
    String armorId = served.armorId();
    AppProcess client = served.client();

    long killed = cluster.pidOf(armorId);
    kill(killed);
    awaitRestart(armorId, killed);
    request(client, "/fast");

    assertThat(awaitResult(client, "/fast", 2, Duration.ofSeconds(30))).startsWith("ANSWERED /fast fast");
    assertThat(client.lines(line -> line.startsWith("ERROR"))).isEmpty();
  }
}
