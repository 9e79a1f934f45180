package dev.armor.execution;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The restart policy: at most {@code maxRestarts} restarts within a sliding {@code window}, then give up.
 *
 * <p>A crash should cost as little as possible, so a process that had been running for at least
 * {@link #STABLE_AFTER} is restarted at once. A process that dies sooner is crash-looping: each such restart in
 * a row waits twice as long as the one before, from {@code initialBackoff} up to {@code maxBackoff}. Time is
 * passed in, never read.
 */
public final class RestartBudget {

  /** What to do after an exit. */
  public sealed interface Decision {
    record RestartAfter(Duration delay, int restartsInWindow) implements Decision {}

    record GiveUp(int restartsInWindow) implements Decision {}
  }

  private final int maxRestarts;
  private final long windowNanos;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final ArrayDeque<Long> restarts = new ArrayDeque<>();
  private int quickFailuresInARow;

  /** A process that ran this long before it died was not crash-looping. */
  public static final Duration STABLE_AFTER = Duration.ofSeconds(2);

  public RestartBudget(int maxRestarts, Duration window, Duration initialBackoff, Duration maxBackoff) {
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("max-restarts must be at least 0, but was " + maxRestarts);
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("restart-window must be positive, but was " + window);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "restart backoff must satisfy 0 <= initial <= max, but was " + initialBackoff + " and " + maxBackoff);
    }
    this.maxRestarts = maxRestarts;
    this.windowNanos = window.toNanos();
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
  }

  /** The process exited at {@code nowNanos} after running {@code ranNanos}: restart it (after a delay), or give up. */
  public Decision onExit(long nowNanos, long ranNanos) {
    while (!restarts.isEmpty() && nowNanos - restarts.peekFirst() > windowNanos) {
      restarts.pollFirst();
    }
    int recent = restarts.size();
    if (recent >= maxRestarts) {
      return new Decision.GiveUp(recent);
    }
    restarts.addLast(nowNanos);
    quickFailuresInARow = ranNanos >= STABLE_AFTER.toNanos() ? 0 : quickFailuresInARow + 1;
    return new Decision.RestartAfter(backoff(), recent + 1);
  }

  private Duration backoff() {
    if (quickFailuresInARow <= 1) {
      return Duration.ZERO;
    }
    // Double from initial until max, saturating: a fixed cap on the shift would stop short of a max more than
    // 2^20 times initial, and a larger shift would overflow.
    long max = maxBackoff.toMillis();
    long millis = initialBackoff.toMillis();
    for (int n = 2; n < quickFailuresInARow && millis > 0 && millis < max; n++) {
      millis = millis > max / 2 ? max : millis * 2;
    }
    return Duration.ofMillis(Math.min(millis, max));
  }
}
