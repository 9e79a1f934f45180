package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.ArmorTestCluster.CliResult;
import dev.armor.systemtest.apps.BindAndClose;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
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
 * Bad input gets a clear error and loses nothing: the app sees the exception type the JDK would throw, with a
 * message saying what Armor found; the CLI says what is wrong in one line. And nothing stale is left behind.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BadInputTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.8";

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("bad-input", SUBNET, 7802, 25802, 1, List.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void connectToAnAddressNobodyServes_failsWithConnectException() throws Exception {
    AppProcess client = cluster.startApp("n1", ArmorTestCluster.JDK17, LineClient.class.getName(), SUBNET + ".2", "7299", "5");
    String error = client.awaitLine(line -> line.startsWith("ERROR"), Duration.ofSeconds(30));
    assertThat(error).contains("type=java.net.ConnectException");
  }

  @Test
  void secondServerOnAServedAddress_failsWithBindExceptionNamingTheHolder() throws Exception {
    String holder = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7201"));
    AppProcess second = cluster.startApp("n1", ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7201");
    String failure = second.awaitLine(line -> line.contains("BindException"), Duration.ofSeconds(30));
    assertThat(failure).contains(SUBNET + ".2:7201").contains(holder);
    assertThat(second.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
    // The holder is untouched: a client still gets its echoes.
    AppProcess client = cluster.startApp("n1", ArmorTestCluster.JDK17, LineClient.class.getName(), SUBNET + ".2", "7201", "2");
    client.awaitLine(line -> line.startsWith("DONE"), Duration.ofSeconds(30));
    assertThat(client.lines(l -> l.startsWith("ECHO"))).isNotEmpty();
  }

  @Test
  void aListenerTheAppCloses_isUnregistered() throws Exception {
    AppProcess app = cluster.startApp("n1", ArmorTestCluster.JDK17, BindAndClose.class.getName(), "7202");
    app.awaitLine(line -> line.equals("CLOSED"), Duration.ofSeconds(30));
    org.awaitility.Awaitility.await(SUBNET + ".2:7202 leaves APP_SERVER_DB").atMost(Duration.ofSeconds(30))
        .until(() -> cluster.status().getServicesList().stream().noneMatch(s -> s.getService().equals(SUBNET + ".2:7202")));
    assertThat(app.process().isAlive()).as("the app itself lives on").isTrue();
  }

  @Test
  void runOnAnUnknownNode_saysWhichNodesExist() {
    CliResult result = cluster.armor(Duration.ofSeconds(60), "run", "--node", "nowhere", "--", "true");
    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.out()).contains("no daemon is registered for node 'nowhere'").contains("n1");
  }

  @Test
  void agentOptsForAnUnknownNode_saysSo() {
    CliResult result = cluster.armor(Duration.ofSeconds(60), "agent-opts", "--node", "nowhere");
    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.out()).contains("no daemon is registered for node 'nowhere'");
  }

  @Test
  void statusWithNoFtm_saysNoFtmAnswers() {
    CliResult result = cluster.armor(Duration.ofSeconds(60), "status", "--ftm", "127.0.0.1:7298");
    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.out()).contains("no FTM answers at 127.0.0.1:7298");
  }

  @Test
  void appWrappedToAMissingDaemon_failsItsConnectWithConnectExceptionNamingTheSocket() throws Exception {
    String shim = ArmorTestCluster.ROOT.resolve("socket-shim/target/armor-socket-shim-agent.jar").toString();
    ProcessBuilder builder = new ProcessBuilder(
        appCommand(ArmorTestCluster.JDK17, LineClient.class.getName(), SUBNET + ".2", "7201", "2")).redirectErrorStream(true);
    builder.environment().put("JAVA_TOOL_OPTIONS", "-javaagent:" + shim + "=socket=/nonexistent/armor/shim.sock,node=nz");
    AppProcess client = new AppProcess("orphan-client", builder.start());
    try {
      String error = client.awaitLine(line -> line.startsWith("ERROR"), Duration.ofSeconds(30));
      assertThat(error).contains("java.net.ConnectException").contains("/nonexistent/armor/shim.sock");
    } finally {
      client.close();
    }
  }

  @Test
  void aCommandThatAlwaysCrashes_isGivenUpOnAfterItsRestartBudget() {
    List<String> command = appCommand(ArmorTestCluster.JDK17, "dev.armor.systemtest.NoSuchMain");
    String[] args = java.util.stream.Stream.concat(
        java.util.stream.Stream.of("run", "--node", "n1", "--max-restarts", "2", "--wait-for-service", "--"),
        command.stream()).toArray(String[]::new);
    CliResult result = cluster.armor(Duration.ofSeconds(90), args);
    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.out()).contains("gave up after 2 restarts");
  }
}
