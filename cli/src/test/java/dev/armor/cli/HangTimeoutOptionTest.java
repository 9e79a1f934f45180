package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code armor run --hang-timeout} and {@code --progress-timeout}, and the daemon's liveness options: parsed, or refused with a clear message. */
class HangTimeoutOptionTest {

  @Test
  void runHangTimeout_isInMilliseconds_andAbsentMeansTheDaemonsDefault() {
    assertThat(RunCommand.hangTimeoutMillis(null)).isZero();
    assertThat(RunCommand.hangTimeoutMillis("10s")).isEqualTo(10_000);
    assertThat(RunCommand.hangTimeoutMillis("750ms")).isEqualTo(750);
  }

  @Test
  void runHangTimeout_badValues_areRefusedNamingTheOption() {
    assertThatThrownBy(() -> RunCommand.hangTimeoutMillis("soon"))
        .hasMessage("--hang-timeout must be a duration like 500ms, 30s or 2m, but was 'soon'");
    assertThatThrownBy(() -> RunCommand.hangTimeoutMillis("0s"))
        .hasMessage("--hang-timeout must be at least 100ms, but was '0s'");
  }

  @Test
  void runProgressTimeout_isOffUnlessGiven_atLeastASecond_orZeroForOff() {
    assertThat(RunCommand.progressTimeoutMillis(null)).isZero();
    assertThat(RunCommand.progressTimeoutMillis("0s")).isZero();
    assertThat(RunCommand.progressTimeoutMillis("30s")).isEqualTo(30_000);
    assertThatThrownBy(() -> RunCommand.progressTimeoutMillis("500ms"))
        .hasMessage("--progress-timeout must be at least 1000 ms (or 0 for off), but was 500 ms");
    assertThatThrownBy(() -> RunCommand.progressTimeoutMillis("never"))
        .hasMessage("--progress-timeout must be a duration like 500ms, 30s or 2m, but was 'never'");
  }

  @Test
  void daemonLivenessOptions_haveDocumentedDefaults_andAreValidatedTogether() {
    DaemonCommand defaults = new DaemonCommand();
    new CommandLine(defaults).parseArgs("--node", "n1", "--host", "127.0.0.2");
    assertThat(defaults.liveness().heartbeat()).isEqualTo(Duration.ofMillis(500));
    assertThat(defaults.liveness().hangTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(defaults.liveness().lease()).isEqualTo(Duration.ofSeconds(5));
    assertThat(defaults.liveness().fence()).isTrue();

    DaemonCommand tooShort = new DaemonCommand();
    new CommandLine(tooShort).parseArgs("--node", "n1", "--host", "127.0.0.2", "--heartbeat", "1s", "--shim-lease", "1s");
    assertThatThrownBy(tooShort::liveness).hasMessage("shim-lease must be at least two heartbeats (1000 ms), but was 1000 ms");

    DaemonCommand noFencing = new DaemonCommand();
    new CommandLine(noFencing).parseArgs("--node", "n1", "--host", "127.0.0.2", "--no-fencing");
    assertThat(noFencing.liveness().fence()).isFalse();
  }
}
