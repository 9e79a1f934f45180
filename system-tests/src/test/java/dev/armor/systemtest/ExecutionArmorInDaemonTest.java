package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static dev.armor.systemtest.ArmorTestCluster.commandLine;
import static dev.armor.systemtest.ArmorTestCluster.fields;
import static org.assertj.core.api.Assertions.assertThat;

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
 * The default, {@code --execution-armors in-daemon}, through the same install path as process mode: the app is the
 * daemon's own child (no ARMOR process), the daemon heartbeats the ARMOR actor, and a killed app is restarted under
 * a live client connection, on the shared cluster ({@link ArmorTestCluster#shared()}).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ExecutionArmorInDaemonTest {

  private static final int PORT = 7843;
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void appRunsUnderTheDaemonItself_andIsRestartedAfterASigkill() throws Exception {
    String armorId = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "" + PORT));
    long daemonPid = cluster.nodePid("daemon-n1");
    long app = cluster.pidOf(armorId);
    assertThat(ProcessHandle.of(app).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
        .as("in-daemon: the app is the daemon's child, there is no ARMOR process").contains(daemonPid);
    assertThat(ProcessHandle.allProcesses().filter(p -> commandLine(p.pid()).contains("ExecutionArmorMain")
        && commandLine(p.pid()).contains(cluster.home().toString()))).isEmpty();

    AppProcess client = cluster.startApp("n2", ArmorTestCluster.JDK17, LineClient.class.getName(), cluster.host("n1"), "" + PORT, "120");
    client.awaitLine(line -> line.startsWith("ECHO"), Duration.ofSeconds(60));
    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(app).orElseThrow().destroyForcibly();
    client.awaitLine(line -> line.startsWith("ECHO") && !fields(line).get("pid").equals("" + app)
        && Long.parseLong(fields(line).get("sent")) >= killedAt, Duration.ofSeconds(60));
    assertThat(client.lines(l -> l.startsWith("ERROR") || l.startsWith("EOF"))).isEmpty();
    assertThat(java.nio.file.Files.readString(cluster.home().resolve("logs/daemon-n1.log")))
        .as("the daemon heartbeats its in-daemon ARMORs (it said so when it started, maybe for an earlier class)")
        .contains("Execution ARMORs run inside the daemon; heartbeat every 1000 ms");
    assertThat(cluster.log("daemon-n1.log")).as("and this ARMOR answered them").doesNotContain("has not answered its heartbeats");
  }
}
