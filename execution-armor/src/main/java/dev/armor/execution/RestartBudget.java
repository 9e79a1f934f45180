package dev.armor.execution;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The restart policy: at most {@code maxRestarts} restarts within a sliding {@code window}; the first restart
 * of a run of failures is immediate (a crash should cost as little as possible), each further one waits twice
 * as long as the one before, from {@code initialBackoff} up to {@code maxBackoff}. Time is passed in, never read.
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

  /** The process exited at {@code nowNanos}: restart it (after a delay), or give up. */
  public Decision onExit(long nowNanos) {
    while (!restarts.isEmpty() && nowNanos - restarts.peekFirst() > windowNanos) {
      restarts.pollFirst();
    }
    int recent = restarts.size();
    if (recent >= maxRestarts) {
      return new Decision.GiveUp(recent);
    }
    restarts.addLast(nowNanos);
    return new Decision.RestartAfter(backoff(recent), recent + 1);
  }

  private Duration backoff(int previousRestartsInWindow) {
    if (previousRestartsInWindow == 0) {
      return Duration.ZERO;
    }
    long millis = initialBackoff.toMillis() << Math.min(previousRestartsInWindow - 1, 20);
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }
}
