package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ProcessHeartbeat;
import dev.armor.shim.control.ShimSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The daemon's liveness settings, what it tells protected apps' shims, and where their heartbeats go. */
class LivenessSettingsTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void agentOptions_ofAProtectedApp_carryHeartbeatLeaseAndFencing_aWrappedAppsDoNot() {
    DaemonSettings defaults = settings(DaemonSettings.Liveness.DEFAULTS);
    DaemonSettings custom = settings(new DaemonSettings.Liveness(Duration.ofMillis(200), Duration.ofSeconds(2),
        Duration.ofSeconds(4), false));

    assertThat(defaults.agentOptions("exec-n1-a")).isEqualTo("-javaagent:/opt/armor/shim.jar=socket=/home/armor/run/n1/"
        + "shim.sock,node=n1,host=127.0.0.2,armor=exec-n1-a,heartbeat=500,lease=5000");
    assertThat(custom.agentOptions("exec-n1-a")).endsWith(",armor=exec-n1-a,heartbeat=200,lease=4000,fence=off");
    assertThat(defaults.agentOptions("")).isEqualTo(
        "-javaagent:/opt/armor/shim.jar=socket=/home/armor/run/n1/shim.sock,node=n1,host=127.0.0.2");
  }

  @Test
  void hostAgentArgument_onlyForAnIpLiteral_theShimTakesNoNames() {
    assertThat(DaemonSettings.hostAgentArgument("198.18.0.2")).isEqualTo(",host=198.18.0.2");
    assertThat(DaemonSettings.hostAgentArgument("fd00::2")).isEqualTo(",host=fd00::2");
    assertThat(DaemonSettings.hostAgentArgument("node1.example")).isEmpty();
    assertThat(DaemonSettings.hostAgentArgument("")).isEmpty();
  }

  @Test
  void liveness_rejectsTimeoutsShorterThanTwoHeartbeats_namingTheSetting() {
    assertThatThrownBy(() -> new DaemonSettings.Liveness(Duration.ZERO, Duration.ofSeconds(3), Duration.ofSeconds(5), true))
        .hasMessage("heartbeat must be positive, but was PT0S");
    assertThatThrownBy(() -> new DaemonSettings.Liveness(Duration.ofMillis(500), Duration.ofMillis(900), Duration.ofSeconds(5), true))
        .hasMessage("hang-timeout must be at least two heartbeats (500 ms), but was 900 ms");
    assertThatThrownBy(() -> new DaemonSettings.Liveness(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofMillis(600), true))
        .hasMessage("shim-lease must be at least two heartbeats (500 ms), but was 600 ms");
  }

  @Test
  void aProtectedAppsHeartbeat_goesThroughTheGatewayToItsExecutionArmor_aWrappedAppsNowhere() {
    TestProbe<ArmorActor.Command> gateway = testKit.createTestProbe();
    ShimEndpoint endpoint = new ShimEndpoint(settings(DaemonSettings.Liveness.DEFAULTS), gateway.ref(),
        testKit.system().scheduler(), null, Caffeine.newBuilder().build(), Map.of());

    endpoint.heartbeat(new Session(4242, "exec-n1-a"), 7);
    endpoint.heartbeat(new Session(4343, ""), 1);

    ArmorMessage message = ((ArmorActor.Deliver) gateway.receiveMessage()).message();
    assertThat(message.getTo()).isEqualTo("exec-n1-a");
    assertThat(message.getBundles(0).getOperations(0).getType()).isEqualTo(Ops.PROCESS_HEARTBEAT);
    assertThat(Ops.argument(message.getBundles(0).getOperations(0), ProcessHeartbeat.class))
        .isEqualTo(ProcessHeartbeat.newBuilder().setPid(4242).setBeat(7).build());
    gateway.expectNoMessage(Duration.ofMillis(100));
  }

  private static DaemonSettings settings(DaemonSettings.Liveness liveness) {
    return new DaemonSettings("n1", "127.0.0.2", 25520, "127.0.0.1:7700", Path.of("/home/armor"),
        Path.of("/opt/armor/shim.jar"), false, Duration.ofSeconds(5), DaemonSettings.DataPlane.DEFAULTS, liveness,
        DaemonSettings.ExecutionArmors.DEFAULTS, dev.armor.ftm.ClusterNodeConfig.Detection.DEFAULTS,
        DaemonSettings.DEFAULT_CONTROL_PORT);
  }

  private record Session(long pid, String armorId) implements ShimSession {
    @Override
    public String node() {
      return "n1";
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public CompletableFuture<Boolean> ping(Duration timeout) {
      return CompletableFuture.completedFuture(true);
    }
  }
}
