package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client of a service that is down is held while the service recovers, for the daemon's hold timeout (3 s
 * here), and then reset cleanly: the connection stays open (no error, no EOF) until then, and ends with a reset,
 * never with an EOF that would look like a normal end of stream.
 */
class HeldClientTest {

  private static final Duration HOLD = Duration.ofSeconds(3);
  private static ArmorTestCluster cluster;

  @RegisterExtension
  static final org.junit.jupiter.api.extension.TestWatcher LOGS = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("held", "127.0.5", 7850, 25850, 2, List.of("--hold-timeout", HOLD.toSeconds() + "s"));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void clientOfAServerThatDoesNotComeBackInTime_isHeldForTheHoldTimeout_thenReset() throws Exception {
    // The server binds at once the first time; every restart takes a minute before it binds again.
    String marker = cluster.home().resolve("started-once").toString();
    List<String> server = new ArrayList<>(List.of("bash", "-c",
        "if [ -e " + marker + " ]; then sleep 60; fi; touch " + marker + "; exec "
            + String.join(" ", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7851"))));
    String armorId = cluster.launchServer("n1", server);
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), "127.0.5.2", "7851", "120");
    client.awaitLine(l -> l.startsWith("ECHO "), Duration.ofSeconds(60));

    ProcessHandle.of(cluster.pidOf(armorId)).orElseThrow().destroyForcibly();
    long killedAt = System.nanoTime();
    Awaitility.await("the service is marked recovering").atMost(Duration.ofSeconds(30))
        .until(() -> cluster.status().getServicesList().stream().filter(e -> e.getService().equals("127.0.5.2:7851"))
            .map(ServiceEntry::getState).findFirst().orElse(null) == ServiceState.RECOVERING);

    String end = client.awaitLine(l -> l.startsWith("ERROR") || l.startsWith("EOF"), Duration.ofSeconds(60));
    long heldMillis = (System.nanoTime() - killedAt) / 1_000_000;
    // Its reader and its writer race to report the RST: the first call after it fails with "Connection reset", a
    // write after that with "Broken pipe" (EPIPE). An end of stream would be "EOF" (a FIN is read at once, and a write
    // after a FIN succeeds).
    assertThat(end).as("the held client ends with a reset, not an end of stream").startsWith("ERROR")
        .containsAnyOf("Connection reset", "Broken pipe");
    assertThat(heldMillis).as("the client was held at least the hold timeout").isGreaterThanOrEqualTo(HOLD.toMillis());
  }
}
