package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.HttpRequestClient;
import dev.armor.systemtest.apps.SlowHttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * A request in flight when the server is killed never hangs (before issue 14, it waited forever: the new instance
 * never saw it). Armor reads HTTP/1.1's exchanges as they pass: a GET in flight is sent again to the new instance,
 * which answers it on the same connection (the client sees a slower answer, nothing else); a POST in flight is
 * answered {@code 503} with {@code Connection: close} at once, as a gateway answers, and never executed twice. A
 * keep-alive connection idle at the kill carries the next request to the new instance with no error at all.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HttpNeverWorseTest {

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

  private record Served(String armorId, AppProcess client) {}

  /**
   * The server under reconnect on n1 at {@code port}, a client on n2 whose first GET /fast was answered (its
   * keep-alive connection is open).
   */
  private static Served serveAndAskOnce(String port) throws IOException {
    String armorId = cluster.launchServer("n1", List.of("--recovery", "reconnect"),
        appCommand(ArmorTestCluster.JDK17, SlowHttpServer.class.getName(), port));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, HttpRequestClient.class.getName(),
        subnet + ".2", port);
    client.awaitLine(line -> line.equals("READY"), Duration.ofSeconds(30));
    request(client, "/fast");
    assertThat(awaitResult(client, "/fast", 1, Duration.ofSeconds(30))).startsWith("ANSWERED /fast status=200 fast");
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

  /**
   * The same GET and POST in flight at a kill without Armor: the server unwrapped on 127.0.0.1 at {@code port}, killed
   * and started again by the test, the client unwrapped. Returns the client's result of each, for the comparison.
   */
  private static List<String> withoutArmor(String port) throws Exception {
    List<AppProcess> servers = new java.util.ArrayList<>();
    try (AppProcess client = cluster.startWrappedApp(null, ArmorTestCluster.JDK17, HttpRequestClient.class.getName(),
        "127.0.0.1", port)) {
      servers.add(cluster.startWrappedApp(null, ArmorTestCluster.JDK17, SlowHttpServer.class.getName(), port));
      servers.get(0).awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(30));
      client.awaitLine(line -> line.equals("READY"), Duration.ofSeconds(30));
      request(client, "/fast");
      awaitResult(client, "/fast", 1, Duration.ofSeconds(30));
      List<String> results = new java.util.ArrayList<>();
      for (String inFlight : List.of("/slow", "POST /slow")) {
        AppProcess server = servers.get(servers.size() - 1);
        request(client, inFlight);
        server.awaitLine(line -> line.equals("SLOW"), Duration.ofSeconds(30));
        server.process().destroyForcibly().waitFor();
        AppProcess restarted = cluster.startWrappedApp(null, ArmorTestCluster.JDK17, SlowHttpServer.class.getName(), port);
        servers.add(restarted);
        restarted.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(30));
        results.add(awaitResult(client, inFlight, 1, Duration.ofSeconds(40)));
      }
      return results;
    } finally {
      servers.forEach(AppProcess::close);
    }
  }

  @Test
  void aRequestInFlightAtTheKillNeverHangs_aGetIsSentAgainByArmor_aPostIsAnswered503() throws Exception {
    List<String> without = withoutArmor("7613");
    System.out.println("JDK HttpServer without Armor, GET in flight at the kill: " + without.get(0));
    System.out.println("JDK HttpServer without Armor, POST in flight at the kill: " + without.get(1));
    Served served = serveAndAskOnce("7611");
    String armorId = served.armorId();
    AppProcess client = served.client();

    long killed = cluster.pidOf(armorId); // looked up first: `armor status` takes a JVM start
    request(client, "/slow"); // answered after 3 s: killed before that
    org.awaitility.Awaitility.await("the server has the request").atMost(Duration.ofSeconds(30))
        .until(() -> serverSaidSlow(armorId, 1));
    kill(killed);
    String get = awaitResult(client, "/slow", 1, Duration.ofSeconds(40));
    assertThat(get).as("sent again by Armor to the new instance, which answers it on the same connection")
        .startsWith("ANSWERED /slow status=200 slow");
    assertThat(clientDaemonLog()).contains("will send its 1 unanswered HTTP request(s) to the next instance again");
    assertThat(millisOf(get)).as("the restart and the 3 s answer; no stall timeout waited, no retry by the client")
        .isLessThan(15_000);
    System.out.println("JDK HttpServer under reconnect, GET in flight at the kill: " + get);
    assertThat(without.get(0)).as("without Armor the GET fails, or the client's own retry gets an answer: never more")
        .matches("(ANSWERED /slow status=200 slow|ERROR /slow ).*");

    awaitRestart(armorId, killed);
    killed = cluster.pidOf(armorId);
    request(client, "POST /slow");
    org.awaitility.Awaitility.await("the server has the request").atMost(Duration.ofSeconds(30))
        .until(() -> serverSaidSlow(armorId, 3)); // the GET's two instances, then this one
    kill(killed);
    String post = awaitResult(client, "POST /slow", 1, Duration.ofSeconds(40));
    assertThat(post).as("what a gateway answers for a server that went away; a POST is not sent again: it ran once")
        .startsWith("ANSWERED POST /slow status=503 Armor: the server restarted while it had this request (POST /slow)");
    assertThat(millisOf(post)).as("at the loss: not the stall timeout, not the restart").isLessThan(4_000);
    System.out.println("JDK HttpServer under reconnect, POST in flight at the kill: " + post);
    assertThat(without.get(1)).as("without Armor a POST in flight fails (and may have run)")
        .startsWith("ERROR POST /slow ");

    for (int i = 0; i < 2; i++) {
      NeverWorseKit.Outcome plain = new NeverWorseKit.Outcome(without.get(i));
      NeverWorseKit.Outcome armored = new NeverWorseKit.Outcome(i == 0 ? get : post);
      System.out.printf("| JDK HttpServer and HttpClient, JDK 17 | %s in flight at the kill | without Armor: %s, %d ms"
          + " | with Armor: %s, %d ms |%n", i == 0 ? "a GET" : "a POST", plain.kind(), plain.millis(), armored.kind(),
          armored.millis());
    }

    awaitRestart(armorId, killed);
    request(client, "/fast");
    assertThat(awaitResult(client, "/fast", 2, Duration.ofSeconds(30))).startsWith("ANSWERED /fast status=200 fast");
  }

  /** Whether the server's log (all its instances) says SLOW at least {@code times} times: a /slow request is in. */
  private static boolean serverSaidSlow(String armorId, int times) {
    try {
      return Files.readAllLines(cluster.home().resolve("logs").resolve(armorId + ".log")).stream()
          .filter(line -> line.equals("SLOW")).count() >= times;
    } catch (IOException e) {
      return false;
    }
  }

  /** The log of n2's daemon, where the client's connections are, since this class took the cluster. */
  private static String clientDaemonLog() throws IOException {
    return cluster.log("daemon-n2.log");
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

    assertThat(awaitResult(client, "/fast", 2, Duration.ofSeconds(30))).startsWith("ANSWERED /fast status=200 fast");
    assertThat(client.lines(line -> line.startsWith("ERROR"))).isEmpty();
  }
}
