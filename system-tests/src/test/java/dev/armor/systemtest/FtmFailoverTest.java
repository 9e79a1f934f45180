package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
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
 * APP_SERVER_DB survives the FTM moving: the FTM process is killed, the FTM singleton starts on an FTM-capable
 * daemon's node, and a client that never connected before still finds the service there (a lookup the new FTM can
 * only answer from the replicated table; without it the connect would go direct and be refused). The hand-over comes
 * from the successor's vote on the dead FTM process's node lease (docs/ARCHITECTURE.md, "Node leases", "The FTM's
 * own node").
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FtmFailoverTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.10";

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("ftm-failover", SUBNET, 7804, 25804, 2, List.of("--ftm-capable"));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void serviceRegisteredBeforeTheFtmDied_isFoundThroughTheFtmThatTookOver() throws Exception {
    cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7501"));
    String wrapToN2 = cluster.agentOptions("n2"); // asked now: the CLI reaches the FTM's control API, which dies
    long ftmPid = cluster.nodePid("ftm-" + SUBNET + ".1-7804");
    ProcessHandle.of(ftmPid).orElseThrow().destroyForcibly();

    // The cluster needs the old FTM's node downed before the singleton moves (its lease must end first); until then
    // a lookup times out and the client's connect fails: try again.
    Awaitility.await("a new client reaches the service through the FTM that took over")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(2))
        .until(() -> {
          try (AppProcess client = cluster.startWrappedApp(wrapToN2, ArmorTestCluster.JDK17, LineClient.class.getName(),
              SUBNET + ".2", "7501", "1")) {
            client.awaitLine(line -> line.startsWith("DONE") || line.startsWith("ERROR"), Duration.ofSeconds(30));
            return !client.lines(l -> l.startsWith("ECHO")).isEmpty();
          }
        });
    assertThat(ProcessHandle.of(ftmPid)).isEmpty();
    // Handed over by the successor's lease vote, not after the split brain resolver's stable-after and removal margin.
    assertThat(cluster.log("daemon-n1.log") + cluster.log("daemon-n2.log"))
        .containsPattern("FTM successor: node ftm@" + java.util.regex.Pattern.quote(SUBNET + ".1") + ":\\d+ .* declared "
            + "lost while the FTM's node was silent: its node lease ended");
  }
}
