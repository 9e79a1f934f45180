package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad option values fail in one line that names the option and what it takes, before anything starts. */
class CliInputTest {

  @Test
  void aDurationTooLargeForAnyClockSaysSo() {
    assertThatThrownBy(() -> Durations.parse("--hold-timeout", "999999999999999999m"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--hold-timeout must be a duration like 500ms, 30s or 2m, but was '999999999999999999m'");
    assertThatThrownBy(() -> Durations.parse("--hold-timeout", "9999999m"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--hold-timeout must be at most 365 days, but was '9999999m'");
    assertThat(Durations.parse("--hold-timeout", "90s")).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void aPortOutsideTheRangeNamesTheOption() {
    assertThatThrownBy(() -> Ports.check("--port", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--port must be a port from 1 to 65535, but was -1");
    assertThatThrownBy(() -> Ports.check("--cluster-port", 70000)).hasMessageContaining("70000");
    assertThat(Ports.check("--port", 7700)).isEqualTo(7700);
  }
}
