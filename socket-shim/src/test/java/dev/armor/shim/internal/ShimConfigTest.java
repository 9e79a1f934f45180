package dev.armor.shim.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ShimConfigTest {

  @Test
  void parse_readsEveryArgument() {
    ShimConfig config = ShimConfig.parse("socket=/run/armor/shim.sock, node=n1,armor=a-9,timeout=250", Map.of()).orElseThrow();

    assertThat(config).isEqualTo(new ShimConfig(Path.of("/run/armor/shim.sock"), "n1", "a-9", 250, Optional.of(Path.of("/run/armor/shim-cache"))));
  }

  @Test
  void parse_withoutSocket_isEmpty_soTheAgentStaysInert() {
    assertThat(ShimConfig.parse(null, Map.of())).isEmpty();
    assertThat(ShimConfig.parse("", Map.of())).isEmpty();
    assertThat(ShimConfig.parse("node=n1,timeout=5", Map.of())).isEmpty();
  }

  @Test
  void parse_defaults_takeTheArmorIdFromTheEnvironment() {
    ShimConfig config = ShimConfig.parse("socket=/s.sock", Map.of("ARMOR_ARMOR_ID", "from-env")).orElseThrow();

    assertThat(config).isEqualTo(new ShimConfig(Path.of("/s.sock"), "", "from-env", ShimConfig.DEFAULT_TIMEOUT_MILLIS, Optional.of(Path.of("/shim-cache"))));
    assertThat(ShimConfig.parse("socket=/s.sock,armor=arg", Map.of("ARMOR_ARMOR_ID", "env")).orElseThrow().armorId())
        .isEqualTo("arg");
  }

  @Test
  void parse_rejectsBadArguments_namingThemAndTheValue() {
    assertThatThrownBy(() -> ShimConfig.parse("socket=relative.sock", Map.of()))
        .hasMessage("agent argument socket must be an absolute path, but was 'relative.sock'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,timeout=0", Map.of()))
        .hasMessage("agent argument timeout must be a positive number of milliseconds, but was '0'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,timeout=soon", Map.of()))
        .hasMessageContaining("but was 'soon'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,colour=red", Map.of()))
        .hasMessage("agent argument must be one of socket, node, armor, timeout, cache, heartbeat, lease, fence, host,"
            + " but was 'colour'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,host=node1.example", Map.of()))
        .hasMessage("agent argument host must be an IP address, but was 'node1.example'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,heartbeat=-5", Map.of()))
        .hasMessage("agent argument heartbeat must be a positive number of milliseconds, but was '-5'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,heartbeat=500,lease=500", Map.of()))
        .hasMessage("agent argument lease must be longer than heartbeat (500 ms), but was 500 ms");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,fence=maybe", Map.of()))
        .hasMessage("agent argument fence must be on or off, but was 'maybe'");
    assertThatThrownBy(() -> ShimConfig.parse("socket=/s.sock,verbose", Map.of()))
        .hasMessage("agent argument must be key=value, but was 'verbose'");
  }

  @Test
  void parse_heartbeatLeaseAndFence_andOnlyAProtectedAppBeatsOrFences() {
    ShimConfig config = ShimConfig.parse("socket=/s.sock,armor=a-1,heartbeat=100,lease=900,fence=off", Map.of()).orElseThrow();
    assertThat(config.heartbeatMillis()).isEqualTo(100);
    assertThat(config.leaseMillis()).isEqualTo(900);
    assertThat(config.heartbeats()).isTrue();
    assertThat(config.fences()).isFalse();

    ShimConfig defaults = ShimConfig.parse("socket=/s.sock,armor=a-1", Map.of()).orElseThrow();
    assertThat(defaults.heartbeatMillis()).isEqualTo(ShimConfig.DEFAULT_HEARTBEAT_MILLIS);
    assertThat(defaults.leaseMillis()).isEqualTo(ShimConfig.DEFAULT_LEASE_MILLIS);
    assertThat(defaults.fences()).isTrue();

    ShimConfig wrapped = ShimConfig.parse("socket=/s.sock,fence=on", Map.of()).orElseThrow();
    assertThat(wrapped.heartbeats()).isFalse();
    assertThat(wrapped.fences()).isFalse();
  }

  @Test
  void parse_host_isTheNodesAddress() throws Exception {
    assertThat(ShimConfig.parse("socket=/s.sock,host=127.0.0.2", Map.of()).orElseThrow().host())
        .contains(java.net.InetAddress.getByName("127.0.0.2"));
    assertThat(ShimConfig.parse("socket=/s.sock,host=fd00::2", Map.of()).orElseThrow().host())
        .contains(java.net.InetAddress.getByName("fd00::2"));
    assertThat(ShimConfig.parse("socket=/s.sock", Map.of()).orElseThrow().host()).isEmpty();
  }

  @Test
  void daemonName_saysWhereAndForWhichNode() {
    assertThat(new ShimConfig(Path.of("/s.sock"), "n1", "", 1).daemonName()).isEqualTo("the Armor daemon at /s.sock for node n1");
    assertThat(new ShimConfig(Path.of("/s.sock"), "", "", 1).daemonName()).endsWith("for node (unnamed)");
  }
}
