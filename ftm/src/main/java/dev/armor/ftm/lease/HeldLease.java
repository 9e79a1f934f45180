package dev.armor.ftm.lease;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A daemon's lease on its node, from its side: the renewal rounds it sent and the grants they got. A round that a
 * quorum granted extends the lease to the round's send time plus the lease (from the send, not the grant: the
 * witnesses count from when they granted, which is later, so the holder's lease always ends first). Time is passed in
 * (nanoseconds, any origin). Not thread-safe: its holder actor owns it and publishes the end to {@link NodeLease}.
 */
final class HeldLease {

  /** No lease was ever held. */
  static final long NEVER = Long.MIN_VALUE;

  private record Round(long sentNanos, int needed, Set<Long> grantedBy, Set<Long> refusedBy) {}

  private final long leaseNanos;
  private final LinkedHashMap<Long, Round> rounds = new LinkedHashMap<>();
  private long nextRound = 1;
  private long endNanos = NEVER;
  private String lostBecause;

  HeldLease(long leaseNanos) {
    this.leaseNanos = leaseNanos;
  }

  /** A renewal round goes out to {@code members} witnesses at {@code nowNanos}; returns its number. */
  long startRound(int members, long nowNanos) {
    long round = nextRound++;
    rounds.put(round, new Round(nowNanos, Quorums.toHold(members), new HashSet<>(), new HashSet<>()));
    // A round older than a lease can no longer extend it: forget it, so a silent cluster costs no memory.
    for (Iterator<Map.Entry<Long, Round>> it = rounds.entrySet().iterator(); it.hasNext(); ) {
      if (nowNanos - it.next().getValue().sentNanos() > leaseNanos) {
        it.remove();
      } else {
        break;
      }
    }
    return round;
  }

  /**
   * Witness {@code witnessUid} granted {@code round}; true when this grant completed the round's quorum and moved the
   * lease's end (a duplicate or late grant changes nothing).
   */
  boolean granted(long round, long witnessUid) {
    Round r = rounds.get(round);
    if (r == null || lostBecause != null || !r.grantedBy().add(witnessUid) || r.grantedBy().size() != r.needed()) {
      return false;
    }
    long end = r.sentNanos() + leaseNanos;
    if (end <= endNanos) {
      return false;
    }
    endNanos = end;
    return true;
  }

  /**
   * Witness {@code witnessUid} refused {@code round}: it voted this node lost. The node is lost for good once the
   * witnesses that refuse one round are as many as its quorum (then no quorum can grant it again: a majority declared
   * it lost); returns true then, the first time. Fewer refusals end nothing: a witness that voted in a vote that never
   * reached a majority (a minority side's, during a partition) refuses the node ever after, while the majority still
   * grants it. The lease itself is only ever extended by a quorum's grants, so waiting for a quorum of refusals costs
   * no safety.
   */
  boolean refused(long round, long witnessUid, String why, long nowNanos) {
    Round r = rounds.get(round);
    if (r == null || lostBecause != null || !r.refusedBy().add(witnessUid) || r.refusedBy().size() < r.needed()) {
      return false;
    }
    lostBecause = r.refusedBy().size() + " of the cluster's members refused its lease (" + why + ")";
    endNanos = Math.min(endNanos == NEVER ? nowNanos : endNanos, nowNanos);
    rounds.clear();
    return true;
  }

  /** When the lease ends (or ended), or {@link #NEVER}. */
  long endNanos() {
    return endNanos;
  }

  boolean held(long nowNanos) {
    return endNanos != NEVER && nowNanos < endNanos;
  }

  /** Why the node was declared lost, once a witness said so. */
  Optional<String> lost() {
    return Optional.ofNullable(lostBecause);
  }
}
