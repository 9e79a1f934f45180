package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.systemtest.ArmorTestCluster.CliResult;
import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Planned moves ({@code armor move}, {@code armor drain}, {@code armor undrain}; issue 18): the server starts on the
 * target node, its client's open connection follows it without an error, and only then is the old instance stopped.
 * On the shared cluster (two nodes); the drain is undone before the class ends.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class PlannedMoveTest {

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void takeCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
  }

  @AfterAll
  static void releaseCluster() {
    if (cluster != null) {
      cluster.armor(Duration.ofSeconds(60), "undrain", "n2"); // whatever a failed test left
      cluster.close();
    }
  }

  @Test
  void movedAndDrained_theServerStartsElsewhereFirst_itsClientCarriesOn_andTheOldInstanceIsStoppedAfter()
      throws Exception {
    String service = cluster.host("n1") + ":7884";
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7884"));
    long firstPid = cluster.pidOf(armorId);
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), cluster.host("n1"),
        "7884", "300");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(60));

    // armor move: to n2, and the move returns once the old instance stopped
    long movedAt = System.currentTimeMillis();
    String out = cluster.armorOk(Duration.ofSeconds(150), "move", armorId, "--to", "n2");
    System.out.println(out.trim());
    assertThat(out).contains("moved " + armorId + " from node n1 to node n2 as Execution ARMOR exec-n2-")
        .contains("serving " + service);
    assertThat(ArmorTestCluster.running(firstPid)).as("the old instance is stopped once the move returns").isFalse();
    ServiceEntry moved = served(cluster.status(), service, "n2");
    long secondPid = cluster.pidOf(moved.getArmorId());
    String echo = client.awaitLine(line -> line.startsWith("ECHO") && fields(line).get("pid").equals("" + secondPid)
        && Long.parseLong(fields(line).get("sent")) >= movedAt, Duration.ofSeconds(60));
    System.out.println("first echo from the moved server: " + echo);
    assertThat(cluster.log("ftm-" + cluster.subnet() + ".1-" + cluster.ftm().replaceFirst(".*:", "") + ".log"))
        .contains("planned move of " + armorId + " (node n1) to ARMOR " + moved.getArmorId() + " on node n2 complete in ");

    // armor drain: n2's server goes back to n1, the only other node; n2 takes no moved work until undrained
    String drained = cluster.armorOk(Duration.ofSeconds(150), "drain", "n2");
    System.out.println(drained.trim());
    assertThat(drained).contains("moved " + moved.getArmorId() + " from node n2 to node n1")
        .contains("node n2 drained: 1 protected process(es) moved off it");
    assertThat(ArmorTestCluster.running(secondPid)).isFalse();
    ServiceEntry back = served(cluster.status(), service, "n1");
    long thirdPid = cluster.pidOf(back.getArmorId());
    client.awaitLine(line -> line.startsWith("ECHO") && fields(line).get("pid").equals("" + thirdPid),
        Duration.ofSeconds(60));
    CliResult refused = cluster.armor(Duration.ofSeconds(60), "move", back.getArmorId(), "--to", "n2");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.out()).contains("cannot move " + back.getArmorId()).contains("node n2 is drained");
    assertThat(cluster.armorOk(Duration.ofSeconds(60), "undrain", "n2")).contains("node n2 takes work again");

    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF")))
        .as("the client never sees an error, an EOF or a reset across both moves").isEmpty();
    cluster.armorOk(Duration.ofSeconds(60), "stop", back.getArmorId()); // the class's last: the cluster is shared
  }

  @Test
  void movesThatCannotBe_sayWhy_andMoveNothing() {
    CliResult unknown = cluster.armor(Duration.ofSeconds(60), "move", "exec-n1-nope", "--to", "n2");
    assertThat(unknown.exit()).isNotZero();
    assertThat(unknown.out()).contains("cannot move exec-n1-nope").contains("no Execution ARMOR 'exec-n1-nope'");

    CliResult nowhere = cluster.armor(Duration.ofSeconds(60), "drain", "n9");
    assertThat(nowhere.exit()).isNotZero();
    assertThat(nowhere.out()).contains("cannot drain n9").contains("no daemon is registered for it");

    CliResult notDrained = cluster.armor(Duration.ofSeconds(60), "undrain", "n1");
    assertThat(notDrained.exit()).isNotZero();
    assertThat(notDrained.out()).contains("node 'n1' is not drained");
  }

  private static ServiceEntry served(ClusterStatus status, String service, String node) {
    ServiceEntry entry = status.getServicesList().stream().filter(s -> s.getService().equals(service)).findFirst()
        .orElseThrow(() -> new AssertionError("no APP_SERVER_DB row for " + service + " in " + status.getServicesList()));
    assertThat(entry.getState()).as(service).isEqualTo(ServiceState.UP);
    assertThat(entry.getNode()).as(service).isEqualTo(node);
    assertThat(entry.getArmorId()).as(service).startsWith("exec-" + node + "-");
    return entry;
  }
}
