package dev.armor.elements;

import java.time.Duration;
import java.util.Optional;

/**
 * The one rule for a hang timeout, wherever it is set (a daemon's default, a launch's own): at least two of the node's
 * heartbeats. Shorter, a healthy app is declared hung between two beats and killed on every start.
 */
public final class HangTimeout {

  private HangTimeout() {}

  /** Why {@code hangTimeout} (named {@code option} in the message) is too short for {@code heartbeat}; empty if not. */
  public static Optional<String> tooShort(String option, Duration hangTimeout, Duration heartbeat) {
    if (hangTimeout.compareTo(heartbeat.multipliedBy(2)) >= 0) {
      return Optional.empty();
    }
    return Optional.of(option + " must be at least two heartbeats (" + heartbeat.toMillis() + " ms), but was "
        + hangTimeout.toMillis() + " ms");
  }
}
