package dev.armor.cli;

import java.time.Duration;

/** Parses durations written as {@code 500ms}, {@code 30s}, {@code 2m}. */
final class Durations {

  /** Beyond any timeout Armor has, and far below where converting to milliseconds or nanoseconds overflows. */
  static final Duration LONGEST = Duration.ofDays(365);

  private Durations() {}

  static Duration parse(String setting, String text) {
    Duration parsed = parseUnchecked(setting, text);
    if (parsed.compareTo(LONGEST) > 0) {
      throw new IllegalArgumentException(setting + " must be at most " + LONGEST.toDays() + " days, but was '" + text + "'");
    }
    return parsed;
  }

  private static Duration parseUnchecked(String setting, String text) {
    String t = text.trim();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
    } catch (NumberFormatException | ArithmeticException e) {
      // fall through to the error below (a number too large for a duration is no duration either)
    }
    throw new IllegalArgumentException(setting + " must be a duration like 500ms, 30s or 2m, but was '" + text + "'");
  }
}
