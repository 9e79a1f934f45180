package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class HeartbeatMonitorTest {

  private static final long SECOND = 1_000_000_000L;
  private final HeartbeatMonitor monitor = new HeartbeatMonitor();

  @Test
  void thirdMissInARow_isLoggedOnce_withTheTimeSinceTheLastAnswer() {
    monitor.registered("n1", 0);
    monitor.answered("n1", SECOND / 10);

    assertThat(monitor.missed("n1", 12 * SECOND / 10)).isEmpty();
    assertThat(monitor.missed("n1", 22 * SECOND / 10)).isEmpty();
    assertThat(monitor.missed("n1", 32 * SECOND / 10))
        .contains("daemon n1 has not answered heartbeats for 3.1 s; waiting for the cluster to decide");
    assertThat(monitor.missed("n1", 42 * SECOND / 10)).as("once per streak").isEmpty();
    assertThat(monitor.ageMillis("n1", 42 * SECOND / 10)).isEqualTo(4_100);
  }

  @Test
  void anAnswer_endsTheStreak() {
    monitor.registered("n1", 0);
    monitor.missed("n1", SECOND);
    monitor.missed("n1", 2 * SECOND);
    monitor.answered("n1", 3 * SECOND);

    assertThat(monitor.missedInARow("n1")).isZero();
    assertThat(monitor.missed("n1", 4 * SECOND)).isEmpty();
    assertThat(monitor.ageMillis("n1", 4 * SECOND)).isEqualTo(1_000);
  }

  @Test
  void unknownOrForgottenDaemon_hasNoAge_andNoWarning() {
    monitor.registered("n1", 0);
    monitor.forget("n1");

    assertThat(monitor.ageMillis("n1", SECOND)).isEqualTo(-1);
    assertThat(monitor.missed("n1", SECOND)).isEqualTo(Optional.empty());
  }
}
