package dev.armor.shim.internal;

/**
 * The shim's lease on its daemon: held while the daemon answers. A heartbeat (or a reconnect attempt) starts the
 * wait for an answer; any frame from the daemon ends it; a wait that lasts {@code lease} means the daemon is gone
 * or frozen. Time is passed in (nanoseconds, any origin), so a test drives it without sleeping.
 *
 * <p>Why the lease runs from the oldest unanswered heartbeat rather than from the last answer: if the app itself
 * was stopped (SIGSTOP, a long GC pause) it sent nothing meanwhile, and measuring from the last answer would make
 * it fence itself on resume although its daemon is fine. Measured this way only the daemon's silence counts.
 *
 * <p>The node's lease. When node leases are on, each heartbeat's answer says how long the daemon's node lease still
 * runs; the app may run until then, counted from when the answered heartbeat went out (so never past the node lease's
 * real end). When it ends the app must stop: the cluster may start its work elsewhere. Without an answer carrying it,
 * only the silence rule above applies.
 *
 * <p>Used by the session thread only: not thread-safe.
 */
final class DaemonLease {

  /** No answer is awaited: the daemon answered everything asked so far. */
  private static final long NOT_WAITING = Long.MIN_VALUE;

  /** No node lease is known: only the silence rule applies. */
  private static final long NO_NODE_LEASE = Long.MAX_VALUE;

  private final long leaseNanos;
  private long waitingSinceNanos = NOT_WAITING;
  private long nodeLeaseEndNanos = NO_NODE_LEASE;

  DaemonLease(long leaseNanos) {
    if (leaseNanos <= 0) {
      throw new IllegalArgumentException("lease must be positive, but was " + leaseNanos + " ns");
    }
    this.leaseNanos = leaseNanos;
  }

  /** Something that needs an answer went to the daemon at {@code nowNanos} (a heartbeat, a reconnect attempt). */
  void asked(long nowNanos) {
    if (waitingSinceNanos == NOT_WAITING) {
      waitingSinceNanos = nowNanos;
    }
  }

  /** The daemon answered: whatever was outstanding is answered. */
  void answered() {
    waitingSinceNanos = NOT_WAITING;
  }

  /**
   * The daemon answered a heartbeat, saying its node's lease runs {@code nodeLeaseMillis} more (-1: no node lease).
   * The app's own deadline counts from the oldest request outstanding, which went out before the daemon answered.
   */
  void answered(int nodeLeaseMillis) {
    if (nodeLeaseMillis < 0) {
      nodeLeaseEndNanos = NO_NODE_LEASE;
    } else if (waitingSinceNanos != NOT_WAITING) {
      nodeLeaseEndNanos = waitingSinceNanos + nodeLeaseMillis * 1_000_000L;
    }
    answered();
  }

  /** True when the daemon's node lease, as last told, has ended at {@code nowNanos}. */
  boolean nodeLeaseEnded(long nowNanos) {
    return nodeLeaseEndNanos != NO_NODE_LEASE && nowNanos - nodeLeaseEndNanos >= 0;
  }

  /** True when an answer has been awaited for the whole lease, or the node's lease ended, at {@code nowNanos}. */
  boolean expired(long nowNanos) {
    return (waitingSinceNanos != NOT_WAITING && nowNanos - waitingSinceNanos >= leaseNanos) || nodeLeaseEnded(nowNanos);
  }

  /** How long the daemon has left us waiting at {@code nowNanos}; 0 when nothing is awaited. */
  long silenceNanos(long nowNanos) {
    return waitingSinceNanos == NOT_WAITING ? 0 : nowNanos - waitingSinceNanos;
  }

  /**
   * When the lease expires unless the daemon answers first (or the node lease ends), or {@link Long#MAX_VALUE} when
   * nothing is awaited and no node lease is known.
   */
  long expiresAtNanos() {
    long silence = waitingSinceNanos == NOT_WAITING ? Long.MAX_VALUE : waitingSinceNanos + leaseNanos;
    return Math.min(silence, nodeLeaseEndNanos);
  }
}
