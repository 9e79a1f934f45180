package dev.armor.elements;

import java.time.Duration;
import java.util.Optional;

/**
 * The one rule for a progress timeout ({@code armor run --progress-timeout}), checked where it is given and where it is
 * used: off (zero), or at least {@link #MINIMUM}. The watch samples the app's sockets five times per timeout, at most
 * once per second, so a shorter timeout would judge from one or two samples, and a loaded machine's stall of a second
 * would restart a healthy app.
 */
public final class ProgressTimeout {

  public static final Duration MINIMUM = Duration.ofSeconds(1);

  private ProgressTimeout() {}

  /** Why {@code timeout} (named {@code option} in the message) is not a progress timeout; empty if it is one. */
  public static Optional<String> invalid(String option, Duration timeout) {
    if (timeout.isNegative()) {
      return Optional.of(option + " must not be negative, but was " + timeout.toMillis() + " ms");
    }
    if (timeout.isZero() || timeout.compareTo(MINIMUM) >= 0) {
      return Optional.empty();
    }
    return Optional.of(option + " must be at least " + MINIMUM.toMillis() + " ms (or 0 for off), but was "
        + timeout.toMillis() + " ms");
  }

  /** How often the watch samples for {@code timeout}: a fifth of it, between 200 ms and 1 s. */
  public static Duration sampleInterval(Duration timeout) {
    Duration fifth = timeout.dividedBy(5);
    if (fifth.compareTo(Duration.ofMillis(200)) < 0) {
      return Duration.ofMillis(200);
    }
    return fifth.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : fifth;
  }
}
