package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import dev.armor.systemtest.apps.RebindServer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A bind's registration with the FTM (docs/ARCHITECTURE.md, "Bind" and "The FTM channel"): registrations go over the
 * daemons' FTM channel, an app that closes and binds the same address back to back ends up registered (the channel
 * and the cluster are two paths, and the daemon keeps each address's requests in order), and after the FTM moves the
 * daemons follow it and binds still register (a conflicting bind's {@code BindException} naming the holder: BadInputTest). On its own loopback subnet, 127.0.6.x (FTM on .1, daemons n1 .2 and n2 .3, both FTM-capable).
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BindRegistrationTest {

  private static final String SUBNET = "127.0.6";
  private static final List<String> DETECTION = List.of("--detection-pause", "2s", "--stable-after", "3s");

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    List<String> daemonOptions = new java.util.ArrayList<>(List.of("--ftm-capable", "--control-port", "7921"));
    daemonOptions.addAll(DETECTION);
    cluster = ArmorTestCluster.start("bind-registration", SUBNET, 7920, 25920, 2, daemonOptions, DETECTION);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void registrations_goOverTheFtmChannel() throws Exception {
    AppProcess server = cluster.startApp("n1", ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "8150");
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(60));

    String daemonLog = Files.readString(cluster.home().resolve("logs/daemon-n1.log"));
    assertThat(daemonLog).containsPattern("FTM channel to " + SUBNET.replace(".", "\\.") + "\\.1:\\d+ open");
    assertThat(daemonLog).doesNotContain("asking again through the cluster");
    assertThat(service("127.0.6.2:8150")).map(ServiceEntry::getState).contains(ServiceState.UP);
  }

  @Test
  @Order(2)
  void closeAndBindAgainBackToBack_theLastBindStaysRegistered_andAClientOnAnotherNodeFindsIt() throws Exception {
    AppProcess server = cluster.startApp("n1", ArmorTestCluster.JDK17, RebindServer.class.getName(), "8151", "30");
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(90));

    // Every unregistration of the 30 closes was answered before the next registration went out, so none is left to
    // arrive after the last registration and remove it, and the FTM never saw a close before the bind it closes (a
    // registration that overtook the unregistration before it leaves that one with nothing to remove).
    assertThat(service("127.0.6.2:8151")).map(ServiceEntry::getState).contains(ServiceState.UP);
    assertThat(Files.readString(cluster.home().resolve("logs/ftm-" + SUBNET + ".1-7920.log")))
        .doesNotContain("service address 127.0.6.2:8151 is not registered");
    // 5 s of lines: the client stops sending (and ends) after its window whatever came back, and on a loaded machine
    // its first echo (a JVM's start, the lookup, the connect) took more than 1 s once.
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), "127.0.6.2", "8151", "5");
    client.awaitLine(line -> line.startsWith("DONE") || line.startsWith("ERROR"), Duration.ofSeconds(60));
    assertThat(client.lines(line -> line.startsWith("ECHO"))).isNotEmpty();
    assertThat(service("127.0.6.2:8151")).map(ServiceEntry::getState).contains(ServiceState.UP);
  }

  @Test
  @Order(4)
  void afterTheFtmMoves_theDaemonsFollowIt_andABindStillRegisters() throws Exception {
    String wrapToN1 = cluster.agentOptions("n1"); // asked now: the FTM process's control API is about to die
    ProcessHandle.of(cluster.nodePid("ftm-" + SUBNET + ".1-7920")).orElseThrow().destroyForcibly();
    cluster.useFtm(SUBNET + ".2:7921," + SUBNET + ".3:7921");

    // The singleton moves to the oldest FTM-capable daemon once the FTM's node is downed; its heartbeats tell both
    // daemons where its channel is now.
    Awaitility.await("both daemons follow the FTM to its new node's channel").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> Files.readString(cluster.home().resolve("logs/daemon-n1.log")).matches(
                "(?s).*the FTM channel is " + SUBNET.replace(".", "\\.") + "\\.[23]:\\d+ now.*")
            && Files.readString(cluster.home().resolve("logs/daemon-n2.log")).matches(
                "(?s).*the FTM channel is " + SUBNET.replace(".", "\\.") + "\\.[23]:\\d+ now.*"));
    AppProcess server = cluster.startWrappedApp(wrapToN1, ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "8153");
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(60));

    assertThat(service("127.0.6.2:8153")).map(ServiceEntry::getState).contains(ServiceState.UP);
    assertThat(service("127.0.6.2:8150")).as("registered before the FTM moved").isPresent();
  }

  private static Optional<ServiceEntry> service(String address) throws Exception {
    return cluster.status().getServicesList().stream().filter(s -> s.getService().equals(address)).findFirst();
  }
}
