package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.HashServer;
import dev.armor.systemtest.apps.RecordClient;
import dev.armor.systemtest.apps.RecordStreamServer;
import dev.armor.systemtest.apps.RequestClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The replay policy: a deterministic server killed at random moments many times within one client connection;
 * the client gets every record exactly once, in order, and every request its one answer, as if nothing happened.
 * A server whose output differs after a restart gets the client's connection reset, never a spliced stream.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReplayRecoveryTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;

  /**
   * Kills of the record stream within one connection: twelve, more than the default restart budget (ten a minute).
   * The relay's ReplayTest kills 22 times, in each link mode, for the cost of the replays alone.
   */
  private static final int KILLS = 12;
  private static final int REQUEST_KILLS = 8;
  /** Twelve kills in under a minute: more than the default restart budget allows, on purpose. */
  private static final List<String> REPLAY = List.of("--recovery", "replay", "--max-restarts", "100");
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

  @Test
  void recordStream_killedTwelveTimes_deliversEveryRecordExactlyOnceInOrder() throws Exception {
    String armorId = cluster.launchServer("n1", REPLAY,
        appCommand(ArmorTestCluster.JDK17, RecordStreamServer.class.getName(), "7601"));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, RecordClient.class.getName(),
        subnet + ".2", "7601", "600");
    killRepeatedly(armorId, client, "RECORDS ", KILLS);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("no record lost, repeated or corrupted; no error or EOF").isEmpty();
  }

  @Test
  void requestResponse_nio_killedEightTimes_answersEveryRequestOnceInOrder() throws Exception {
    String armorId = cluster.launchServer("n1", REPLAY,
        appCommand(ArmorTestCluster.JDK17, HashServer.class.getName(), "7602", "--nio"));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, RequestClient.class.getName(),
        subnet + ".2", "7602", "600");
    killRepeatedly(armorId, client, "ANSWERED ", REQUEST_KILLS);
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("every request answered once, in order, even those the killed instance had read").isEmpty();
  }

  @Test
  void serverWhoseOutputDiffersAfterRestart_getsTheEndOfItsStream_neverSpliced() throws Exception {
    String armorId = cluster.launchServer("n1", REPLAY,
        appCommand(ArmorTestCluster.JDK17, HashServer.class.getName(), "7603", "--timestamp"));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, RequestClient.class.getName(),
        subnet + ".2", "7603", "600");
    client.awaitLine(line -> line.startsWith("ANSWERED "), Duration.ofSeconds(30));
    ProcessHandle.of(cluster.pidOf(armorId)).orElseThrow().destroyForcibly();
    String end = client.awaitLine(line -> line.startsWith("ERROR") || line.startsWith("EOF"), Duration.ofSeconds(60));
    assertThat(end).as("its end of stream, as the crash would end it without Armor, not a mismatch the client had to "
        + "find itself").isEqualTo("EOF");
    assertThat(cluster.status().getNodesList().stream().flatMap(n -> n.getConnectionsList().stream()))
        .as("status shows the divergence and where it was found")
        .anyMatch(c -> c.getService().equals(subnet + ".2:7603")
            && c.getState().startsWith("ENDED: the restarted server diverged at byte "));
  }

  /** Kills the server {@code kills} times at random moments, each time after the client made progress on the new one. */
  private static void killRepeatedly(String armorId, AppProcess client, String progressPrefix, int kills) throws Exception {
    client.awaitLine(line -> line.startsWith(progressPrefix), Duration.ofSeconds(30));
    long killed = 0;
    for (int kill = 1; kill <= kills; kill++) {
      long progress = lastProgress(client, progressPrefix);
      client.awaitLine(line -> line.startsWith(progressPrefix)
          && Long.parseLong(line.substring(progressPrefix.length())) > progress, Duration.ofSeconds(60));
      long previous = killed;
      long pid = org.awaitility.Awaitility.await("a new server instance runs").atMost(Duration.ofSeconds(60))
          .ignoreExceptions().until(() -> cluster.listeningPid(armorId), p -> p != previous);
      Thread.sleep(ThreadLocalRandom.current().nextInt(0, 400)); // a random moment in the stream
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      killed = pid;
      assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF"))).as("after kill %d", kill).isEmpty();
    }
    long progress = lastProgress(client, progressPrefix);
    client.awaitLine(line -> line.startsWith(progressPrefix)
        && Long.parseLong(line.substring(progressPrefix.length())) > progress, Duration.ofSeconds(60));
  }

  private static long lastProgress(AppProcess client, String prefix) {
    List<String> lines = client.lines(l -> l.startsWith(prefix));
    return lines.isEmpty() ? 0 : Long.parseLong(lines.get(lines.size() - 1).substring(prefix.length()));
  }
}
