package dev.armor.ftm.lease;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * What a daemon's apps are told about its node's lease: how long they may still run. Read from the shim connections'
 * threads (each heartbeat's answer carries it), written by the {@link LeaseHolder} actor only.
 */
public final class NodeLease {

  /** The answer when node leases are off, or before the first lease: the apps fall back on their own silence rule. */
  public static final int NONE = -1;

  /** Node leases off: every app is told {@link #NONE}. */
  public static final NodeLease OFF = new NodeLease(System::nanoTime);

  private final LongSupplier nanoClock;
  private final AtomicLong endNanos = new AtomicLong(HeldLease.NEVER);

  NodeLease(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /**
   * Milliseconds the node's apps may still run (0 when the lease ended: they must stop), or {@link #NONE} when no
   * lease was ever held. Rounded down, so an app's deadline never lands after the lease's end.
   */
  public int remainingMillis() {
    long end = endNanos.get();
    if (end == HeldLease.NEVER) {
      return NONE;
    }
    long left = end - nanoClock.getAsLong();
    return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, left / 1_000_000);
  }

  void publish(long endNanos) {
    this.endNanos.set(endNanos);
  }
}
