package dev.armor.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RelayConfigTest {

  private final RelayConfig defaults = RelayConfig.defaults("n1", "127.0.0.2");

  @Test
  void shouldDocumentTheDefaults() {
    assertThat(defaults.holdBufferBytes()).isEqualTo(1 << 20);
    assertThat(defaults.holdTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(defaults.dataPort()).isZero();
    assertThat(defaults.nativeTransport()).isTrue();
    assertThat(defaults.replayLogBytes()).isEqualTo(8 << 20);
    assertThat(defaults.replayOverflow()).isEqualTo(RelayConfig.ReplayOverflow.RECONNECT);
    assertThat(defaults.linkKeepalive()).isEqualTo(Duration.ofSeconds(10));
    assertThat(defaults.withLinkKeepalive(Duration.ZERO).withIoThreads(2).linkKeepalive()).isZero();
    assertThat(defaults.withReplayOverflow(RelayConfig.ReplayOverflow.RESET).withIoThreads(2).replayOverflow())
        .isEqualTo(RelayConfig.ReplayOverflow.RESET);
    assertThat(defaults.dataPath()).isEqualTo(RelayConfig.DataPath.DIRECT);
    assertThat(defaults.recoveryStallTimeout()).isEqualTo(Duration.ofSeconds(5));
    // a with-method changes its own setting and keeps every other one
    RelayConfig relayed = defaults.withHoldTimeout(Duration.ofSeconds(5)).withDataPath(RelayConfig.DataPath.RELAYED);
    assertThat(relayed.dataPath()).isEqualTo(RelayConfig.DataPath.RELAYED);
    assertThat(relayed.holdTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(relayed.withLinks(RelayConfig.LinkMode.MULTIPLEXED))
        .isEqualTo(
            new RelayConfig("n1", "127.0.0.2", 0, 1 << 20, Duration.ofSeconds(5), 256 * 1024, 1024 * 1024,
                Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofMillis(50), Duration.ofSeconds(1), 0, true,
                8 << 20, RelayConfig.ReplayOverflow.RECONNECT, Duration.ofSeconds(5), Duration.ofSeconds(10),
                RelayConfig.LinkMode.MULTIPLEXED,
                RelayConfig.DataPath.RELAYED));
    assertThatThrownBy(() -> defaults.withDataPath(null)).hasMessage("data-path must be relayed or direct, but was null");
  }

  @Test
  void shouldNameTheSettingTheRuleAndTheBadValue() {
    assertThatThrownBy(() -> defaults.withHoldTimeout(Duration.ofSeconds(-1)))
        .hasMessage("hold-timeout must be positive, but was -1s");
    assertThatThrownBy(() -> defaults.withHoldBufferBytes(0))
        .hasMessage("hold-buffer-bytes must be positive, but was 0");
    assertThatThrownBy(() -> defaults.withWriteBufferWaterMarks(65536, 1024))
        .hasMessage("write-buffer-high-water-mark must be at least write-buffer-low-water-mark (65536), but was 1024");
    assertThatThrownBy(() -> defaults.withRetryBackoff(Duration.ofSeconds(1), Duration.ofMillis(50)))
        .hasMessage("retry-backoff-max must be at least retry-backoff-min (1s), but was 50ms");
    assertThatThrownBy(() -> RelayConfig.defaults("n 1", "127.0.0.2"))
        .hasMessage("node-name must be 1 to 64 letters, digits, '.', '_' or '-', but was 'n 1'");
    assertThatThrownBy(() -> RelayConfig.defaults("n1", "localhost"))
        .hasMessage("data-host must be a literal IP address, but was 'localhost'");
    assertThatThrownBy(() -> defaults.withDataPort(70000))
        .hasMessage("data-port must be in 0..65535 (0 = ephemeral), but was 70000");
    assertThatThrownBy(() -> defaults.withLivenessGrace(Duration.ZERO))
        .hasMessage("liveness-grace must be positive, but was 0ms");
    assertThatThrownBy(() -> defaults.withReplayLogBytes(0))
        .hasMessage("replay-log-bytes must be positive, but was 0");
    assertThatThrownBy(() -> defaults.withReplayOverflow(null))
        .hasMessage("replay-overflow must be reconnect or reset, but was null");
    assertThatThrownBy(() -> defaults.withRecoveryStallTimeout(Duration.ZERO))
        .hasMessage("recovery-stall-timeout must be positive, but was 0ms");
    assertThatThrownBy(() -> defaults.withLinkKeepalive(Duration.ofMillis(500)))
        .hasMessage("link-keepalive must be 0 (off) or from 1s to 1h, but was 500ms");
  }

  @Test
  void shouldAcceptIpv6Literals() {
    assertThat(RelayConfig.defaults("n1", "::1").dataHost()).isEqualTo("::1");
  }
}
