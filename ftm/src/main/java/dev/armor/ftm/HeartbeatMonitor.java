package dev.armor.ftm;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The FTM's record of its heartbeats to the daemons: when each last answered, and how many in a row it missed.
 *
 * <p>It only informs: a daemon that misses {@link #MISSED_TO_WARN} heartbeats in a row is logged once, with the
 * time since its last answer, and the age shows in status. The decision that a node is dead belongs to cluster
 * membership (the failure detector and the split brain resolver): a slow or paused node is not dead, and moving
 * its work while it still runs would start a second server. Time is passed in (nanoseconds), never read here.
 */
final class HeartbeatMonitor {

  static final int MISSED_TO_WARN = 3;

  /** One daemon's heartbeat record. */
  private static final class Record {
    long lastAnswerNanos;
    boolean everAnswered;
    int missedInARow;
  }

  private final Map<String, Record> records = new HashMap<>();

  /** A daemon (re)registered at {@code nowNanos}: its record starts fresh, as if it had just answered. */
  void registered(String node, long nowNanos) {
    Record record = new Record();
    record.lastAnswerNanos = nowNanos;
    records.put(node, record);
  }

  void forget(String node) {
    records.remove(node);
  }

  void answered(String node, long nowNanos) {
    Record record = records.get(node);
    if (record != null) {
      record.lastAnswerNanos = nowNanos;
      record.everAnswered = true;
      record.missedInARow = 0;
    }
  }

  /**
   * A heartbeat to {@code node} went unanswered. Returns the warning to log when this miss is the
   * {@link #MISSED_TO_WARN}th in a row (once per streak).
   */
  Optional<String> missed(String node, long nowNanos) {
    Record record = records.get(node);
    if (record == null) {
      return Optional.empty();
    }
    record.missedInARow++;
    if (record.missedInARow != MISSED_TO_WARN) {
      return Optional.empty();
    }
    long millis = Duration.ofNanos(nowNanos - record.lastAnswerNanos).toMillis();
    return Optional.of(String.format("daemon %s has not answered heartbeats for %.1f s; waiting for the cluster to decide",
        node, millis / 1000.0));
  }

  /** Milliseconds since {@code node} last answered (or registered); -1 if the FTM does not know it. */
  long ageMillis(String node, long nowNanos) {
    Record record = records.get(node);
    return record == null ? -1 : Duration.ofNanos(nowNanos - record.lastAnswerNanos).toMillis();
  }

  int missedInARow(String node) {
    Record record = records.get(node);
    return record == null ? 0 : record.missedInARow;
  }
}
