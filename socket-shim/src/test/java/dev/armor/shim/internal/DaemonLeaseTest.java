package dev.armor.shim.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The lease on the daemon, on a clock the test moves (nanoseconds from an arbitrary origin). */
class DaemonLeaseTest {
  private static final long MS = 1_000_000L;
  private static final long T0 = 7_000_000_000L * MS; // not zero: the clock's origin must not matter

  private final DaemonLease lease = new DaemonLease(5_000 * MS);

  @Test
  void nothingAsked_neverExpires() {
    assertThat(lease.expired(T0 + 60_000 * MS)).isFalse();
    assertThat(lease.expiresAtNanos()).isEqualTo(Long.MAX_VALUE);
    assertThat(lease.silenceNanos(T0)).isZero();
  }

  @Test
  void unansweredHeartbeats_expireTheLease_aLeaseAfterTheFirstOfThem() {
    lease.asked(T0);
    lease.asked(T0 + 500 * MS);
    lease.asked(T0 + 1_000 * MS);

    assertThat(lease.expired(T0 + 4_999 * MS)).isFalse();
    assertThat(lease.expired(T0 + 5_000 * MS)).isTrue();
    assertThat(lease.silenceNanos(T0 + 5_200 * MS)).isEqualTo(5_200 * MS);
    assertThat(lease.expiresAtNanos()).isEqualTo(T0 + 5_000 * MS);
  }

  @Test
  void anAnswer_renewsTheLease_fromTheNextUnansweredHeartbeat() {
    lease.asked(T0);
    lease.answered();
    lease.asked(T0 + 4_000 * MS);

    assertThat(lease.expired(T0 + 8_999 * MS)).isFalse();
    assertThat(lease.expired(T0 + 9_000 * MS)).isTrue();
  }

  @Test
  void anAppThatWasItselfStopped_doesNotExpireOnResume_whenItsLastBeatWasAnswered() {
    lease.asked(T0);
    lease.answered();
    // the process is stopped for a minute, then beats again: only the daemon's silence counts
    long resumed = T0 + 60_000 * MS;
    lease.asked(resumed);

    assertThat(lease.expired(resumed)).isFalse();
    assertThat(lease.expired(resumed + 4_999 * MS)).isFalse();
  }

  @Test
  void aNodeLease_endsTheAppsRun_countedFromTheAnsweredHeartbeatsDeparture() {
    lease.asked(T0);
    lease.answered(1_400); // the daemon answered at some moment after T0, its node lease running 1.4 s more

    assertThat(lease.expiresAtNanos()).isEqualTo(T0 + 1_400 * MS);
    assertThat(lease.expired(T0 + 1_399 * MS)).isFalse();
    assertThat(lease.expired(T0 + 1_400 * MS)).isTrue();
    assertThat(lease.nodeLeaseEnded(T0 + 1_400 * MS)).isTrue();
  }

  @Test
  void aNodeLeaseAnswerOfZero_meansTheNodeLostIt_andTheAppStopsAtOnce() {
    lease.asked(T0);
    lease.answered(0);

    assertThat(lease.expired(T0 + 1 * MS)).isTrue();
  }

  @Test
  void noNodeLease_leavesTheSilenceRuleAlone() {
    lease.asked(T0);
    lease.answered(1_000);
    lease.asked(T0 + 500 * MS);
    lease.answered(-1); // node leases off (or not held yet): what was told before no longer applies

    assertThat(lease.expired(T0 + 60_000 * MS)).isFalse();
    assertThat(lease.expiresAtNanos()).isEqualTo(Long.MAX_VALUE);
  }
}
