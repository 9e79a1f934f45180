package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.BindReport;
import dev.armor.systemtest.apps.EpollServer;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import dev.armor.systemtest.apps.SelfCheckServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Issue 14, "any client reaches a protected server": a client Armor does not wrap (this test's own JVM: no agent,
 * plain {@link Socket}s) connects at the service address, as it would without Armor, and its connection is carried
 * by the server node's daemon across a kill of the server; once the server is stopped, the address refuses, as
 * without Armor. And a bind of an address something else holds fails as the app's own bind would.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class AnyClientTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;
  private static String node1;
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
    subnet = cluster.subnet();
    node1 = cluster.host("n1");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void anUnwrappedClientAtTheServiceAddress_keepsItsConnectionAcrossAKill_andIsRefusedOnceTheServerIsStopped()
      throws Exception {
    // A line protocol: no protocol element need read it (armor run --protocol generic)
    String armorId = cluster.launchServer("n1", List.of("--protocol", "generic"),
        appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7621"));
    long first = cluster.pidOf(armorId);

    try (Socket client = new Socket(InetAddress.getByName(node1), 7621)) {
      client.setSoTimeout(30_000);
      OutputStream out = client.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      out.write("before\n".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo(first + " before");

      // Killed while the connection is idle at a message boundary: a wrapped client would see nothing, nor does
      // this one. (Bytes in flight at the kill are another matter: the lost instance may have taken them, and
      // under `reconnect` the client is then reset, as without Armor: ReconnectGuard, HttpNeverWorseTest.)
      ProcessHandle.of(first).orElseThrow().destroyForcibly();
      long second = Awaitility.await("a new server instance").atMost(Duration.ofSeconds(60))
          .until(() -> cluster.appPid("n1", LineEchoServer.class.getName() + " 7621"), pid -> pid > 0 && pid != first);
      out.write("after\n".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLine()).as("answered by the restarted server on the same connection")
          .isEqualTo(second + " after");
    }
    // the launch's protocol reached the relay that carries the connection, through the FTM and APP_SERVER_DB
    assertThat(cluster.log("daemon-n1.log")).contains("service " + node1 + ":7621 located at daemon")
        .contains("recovery reconnect, protocol generic)");
    assertThat(cluster.armorOk(Duration.ofSeconds(30), "status")).contains("reconnect, generic");

    cluster.armorOk(Duration.ofSeconds(60), "stop", armorId);
    Awaitility.await("the stopped service's address refuses, as with no server").atMost(Duration.ofSeconds(20))
        .until(() -> refuses(new InetSocketAddress(node1, 7621)));
  }

  @Test
  void aBindOfAnAddressSomethingElseHolds_failsWithBindException() throws Exception {
    try (ServerSocket other = new ServerSocket()) {
      other.bind(new InetSocketAddress(node1, 7622)); // an unwrapped process holds the node's address and port
      try (AppProcess app = cluster.startApp("n1", ArmorTestCluster.JDK17, BindReport.class.getName(), "7622")) {
        String outcome = app.awaitLine(line -> line.startsWith("BOUND") || line.startsWith("BIND-FAILED"),
            Duration.ofSeconds(60));
        assertThat(outcome).startsWith("BIND-FAILED type=java.net.BindException message=Address already in use")
            .contains(node1 + ":7622");
      }
      // the holder was not disturbed
      try (Socket probe = new Socket(node1, 7622)) {
        assertThat(other.accept().getRemoteSocketAddress()).isEqualTo(probe.getLocalSocketAddress());
      }
    }
  }

  @Test
  void aServerThatConnectsToItselfAtLocalhost_reachesItself_andAnotherNodesLocalhostDoesNot() throws Exception {
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17,
        SelfCheckServer.class.getName(), "7623"));
    Path log = cluster.home().resolve("logs").resolve(armorId + ".log");
    Awaitility.await("the server's self-check at localhost:7623").atMost(Duration.ofSeconds(30))
        .until(() -> Files.readString(log).contains("SELF-CHECK"));
    assertThat(Files.readString(log)).contains("SELF-CHECK ok pid=" + cluster.pidOf(armorId));

    // n2's localhost is another host's: nothing serves 7623 there, as without Armor
    try (AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(),
        "127.0.0.1", "7623", "5")) {
      assertThat(client.awaitLine(line -> line.startsWith("ERROR") || line.startsWith("CONNECTED"),
          Duration.ofSeconds(30))).startsWith("ERROR type=java.net.ConnectException");
    }
    // n1's localhost is the server's host: a wrapped client there reaches it
    try (AppProcess client = cluster.startApp("n1", ArmorTestCluster.JDK17, LineClient.class.getName(),
        "localhost", "7623", "1")) {
      assertThat(client.awaitLine(line -> line.startsWith("DONE") || line.startsWith("ERROR"),
          Duration.ofSeconds(30))).startsWith("DONE");
    }
  }

  /**
   * Issue 14, "loopback binds are per node": two nodes' servers bound to the same 127.0.0.1:PORT both run, as on two
   * hosts without Armor, and each node's localhost reaches its own.
   */
  @Test
  void aLoopbackBind_isEachNodesOwn_twoNodesServeTheSameLocalhostPort() throws Exception {
    String onN1 = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, SelfCheckServer.class.getName(),
        "7627", "127.0.0.1"));
    String onN2 = cluster.launchServer("n2", appCommand(ArmorTestCluster.JDK17, SelfCheckServer.class.getName(),
        "7627", "127.0.0.1"));
    for (String node : List.of("n1", "n2")) {
      long server = cluster.pidOf(node.equals("n1") ? onN1 : onN2);
      try (AppProcess client = cluster.startApp(node, ArmorTestCluster.JDK17, LineClient.class.getName(),
          "127.0.0.1", "7627", "1")) {
        assertThat(client.awaitLine(line -> line.startsWith("ECHO") || line.startsWith("ERROR"),
            Duration.ofSeconds(30))).as("%s's localhost", node).contains(" pid=" + server + " ");
      }
    }
  }

  /**
   * Issue 14: an app that requires Netty's epoll transport (its sockets live in C) is protected like any other: its
   * listener is rerouted and registered, reports the address the app bound, each accepted connection reports the
   * service address, and a client's connection carries on across a kill of the server (the real client's address
   * is checked in the shim's AgentNettyTest).
   */
  @Test
  void anAppThatRequiresNettysEpoll_isProtected_andItsClientCarriesOnAcrossAKill() throws Exception {
    String classPath = ArmorTestCluster.TEST_CLASSES + java.io.File.pathSeparator + java.util.Arrays.stream(
            System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(entry -> entry.contains("/io/netty/")).collect(java.util.stream.Collectors.joining(
            java.io.File.pathSeparator));
    String armorId = cluster.launchServer("n1", List.of(ArmorTestCluster.JDK17.toString(), "-cp", classPath,
        EpollServer.class.getName(), "7625"));
    Path log = cluster.home().resolve("logs").resolve(armorId + ".log");
    Awaitility.await("the server says it listens").atMost(Duration.ofSeconds(30))
        .until(() -> Files.readString(log).contains("LISTENING"));
    assertThat(Files.readString(log)).as("the address it bound, not the rerouted loopback listener's")
        .containsPattern("LISTENING native port=7625 local=\\S*/0\\.0\\.0\\.0:7625");
    long killed = cluster.pidOf(armorId);

    try (AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), node1,
        "7625", "60")) {
      client.awaitLine(line -> line.startsWith("ECHO") && line.contains("pid=" + killed), Duration.ofSeconds(30));
      ProcessHandle.of(killed).orElseThrow().destroyForcibly();
      String resumed = client.awaitLine(line -> line.startsWith("ECHO") && !line.contains("pid=" + killed)
          || line.startsWith("ERROR") || line.startsWith("EOF"), Duration.ofSeconds(60));
      assertThat(resumed).as("echoed by the restarted server on the same connection").startsWith("ECHO");
      assertThat(client.lines(line -> line.startsWith("ERROR") || line.startsWith("EOF"))).isEmpty();
    }
    assertThat(Files.readString(log)).as("each accepted connection reports the service address the client used")
        .contains(" local=/" + node1 + ":7625").doesNotContain("local=/127.0.0.1:");
  }

  private static boolean refuses(InetSocketAddress address) throws Exception {
    try (Socket ignored = new Socket(address.getAddress(), address.getPort())) {
      return false;
    } catch (ConnectException refused) {
      return true;
    }
  }
}
