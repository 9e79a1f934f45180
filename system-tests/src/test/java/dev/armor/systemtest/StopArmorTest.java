package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.apps.LineClient;
import dev.armor.systemtest.apps.LineEchoServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * {@code armor stop ARMOR} (issue 14): the operator retires one protected process. It stops and is not restarted
 * (a kill would be a crash, and restarted); its service is unregistered; a client's open connection is reset at once,
 * as without Armor when a server is shut down, not held for a restart that is not coming. An unknown ARMOR is a clear
 * error.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class StopArmorTest {

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

  @Test
  void stoppingAnArmorRetiresItsProcessUnregistersItsServiceAndResetsItsClients() throws Exception {
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7621"));
    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(),
        subnet + ".2", "7621", "600");
    client.awaitLine(line -> line.startsWith("ECHO "), Duration.ofSeconds(30));
    long pid = cluster.pidOf(armorId);

    String out = cluster.armorOk(Duration.ofSeconds(60), "stop", armorId);

    assertThat(out).contains("stopping Execution ARMOR " + armorId + " on node n1").contains("stopped " + armorId);
    Awaitility.await("the process is gone").atMost(Duration.ofSeconds(20))
        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    String end = client.awaitLine(line -> line.startsWith("ERROR") || line.startsWith("EOF"), Duration.ofSeconds(20));
    assertThat(end).as("the client's connection ends at once, not after the 60 s hold").isNotNull();
    assertThat(cluster.status().getServicesList()).noneMatch(s -> s.getService().equals(subnet + ".2:7621"));
    assertThat(cluster.statusFromCli().getServicesList()).as("armor status --json says the same")
        .isEqualTo(cluster.status().getServicesList());
    Thread.sleep(2000); // a restart would have come by now (it comes at once after a crash)
    assertThat(cluster.status().getNodesList().stream().flatMap(n -> n.getProcessesList().stream()))
        .as("not restarted").noneMatch(p -> p.getArmorId().equals(armorId) && p.getAlive());
  }

  @Test
  void stoppingAnUnknownArmorIsAClearError() {
    ArmorTestCluster.CliResult result = cluster.armor(Duration.ofSeconds(60), "stop", "exec-n1-nope");

    assertThat(result.exit()).isNotZero();
    assertThat(result.out()).contains("cannot stop exec-n1-nope").contains("no Execution ARMOR 'exec-n1-nope'");
  }
}
