package dev.armor.ftm.lease;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A daemon's side of its node lease, on a clock the test moves. */
class HeldLeaseTest {
  private static final long MS = 1_000_000L;
  private static final long T0 = 5_000_000L * MS;
  private static final long LEASE = 1_500 * MS;

  private final HeldLease lease = new HeldLease(LEASE);

  @Test
  void aRound_extendsTheLease_fromItsSendTime_onceAQuorumGranted() {
    long round = lease.startRound(5, T0);

    assertThat(lease.granted(round, 1)).isFalse();
    assertThat(lease.granted(round, 2)).isFalse();
    assertThat(lease.held(T0 + 10 * MS)).isFalse();
    assertThat(lease.granted(round, 3)).isTrue(); // 3 of 5
    assertThat(lease.endNanos()).isEqualTo(T0 + LEASE);
    assertThat(lease.held(T0 + LEASE - 1)).isTrue();
    assertThat(lease.held(T0 + LEASE)).isFalse();
  }

  @Test
  void aWitnessCountsOnce() {
    long round = lease.startRound(3, T0);
    lease.granted(round, 7);

    assertThat(lease.granted(round, 7)).isFalse();
    assertThat(lease.held(T0)).isFalse();
  }

  @Test
  void withTwoMembers_theNodesOwnGrantHoldsIt_sinceNoVoteCanDeclareItLost() {
    assertThat(Quorums.toHold(2)).isEqualTo(1);
    assertThat(Quorums.toDeclareLost(2)).isZero();
    long round = lease.startRound(2, T0);

    assertThat(lease.granted(round, 1)).isTrue();
  }

  @Test
  void quorumsToHoldAndToDeclareLost_alwaysShareAMember() {
    for (int members = 3; members <= 9; members++) {
      assertThat(Quorums.toHold(members) + Quorums.toDeclareLost(members)).isGreaterThan(members);
      // A member's view one member larger or smaller than another's still overlaps (joins and removals).
      assertThat(Quorums.toHold(members) + Quorums.toDeclareLost(members + 1)).isGreaterThan(members + 1);
      assertThat(Quorums.toHold(members + 1) + Quorums.toDeclareLost(members)).isGreaterThan(members + 1);
    }
  }

  @Test
  void anOldRound_neverShortensTheLease() {
    long first = lease.startRound(1, T0);
    long second = lease.startRound(1, T0 + 300 * MS);
    lease.granted(second, 1);

    assertThat(lease.granted(first, 1)).isFalse();
    assertThat(lease.endNanos()).isEqualTo(T0 + 300 * MS + LEASE);
  }

  @Test
  void refusalsFromAQuorum_endTheLeaseForGood() {
    long round = lease.startRound(3, T0);
    lease.granted(round, 1);
    lease.granted(round, 2);
    long next = lease.startRound(3, T0 + 100 * MS);

    assertThat(lease.refused(next, 1, "voted lost", T0 + 150 * MS)).isFalse();
    assertThat(lease.refused(next, 2, "voted lost", T0 + 160 * MS)).as("two of three: the quorum").isTrue();

    assertThat(lease.held(T0 + 160 * MS)).isFalse();
    assertThat(lease.lost()).hasValueSatisfying(why -> assertThat(why).contains("2 of", "voted lost"));
    long later = lease.startRound(3, T0 + 200 * MS);
    assertThat(lease.granted(later, 3)).isFalse();
    assertThat(lease.refused(later, 3, "voted lost", T0 + 210 * MS)).as("told once").isFalse();
  }

  @Test
  void aRefusalFromFewerThanAQuorum_endsNothing_theOthersStillGrant() {
    // A witness that voted in a vote that never reached a majority (a minority side's during a partition) refuses
    // the node ever after; the majority still grants it.
    long round = lease.startRound(3, T0);
    assertThat(lease.refused(round, 1, "voted lost", T0 + 10 * MS)).isFalse();
    lease.granted(round, 2);
    assertThat(lease.granted(round, 3)).isTrue();

    assertThat(lease.lost()).isEmpty();
    assertThat(lease.held(T0 + 20 * MS)).isTrue();
  }
}
