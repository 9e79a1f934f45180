package dev.armor.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What a {@link dev.armor.faults.apps.SequenceClient} printed, read back from its log: its stalls, errors and the
 * bytes it lost or received twice. A protected client's log holds every run of it (its ARMOR restarts it into the
 * same file); each run's counters start at zero, so totals add up the last report of each run.
 */
final class ClientLog {

  private final Path file;

  ClientLog(Path file) {
    this.file = file;
  }

  record Totals(long lost, long dup, long errors, long runs) {}

  /** Totals over every run up to now. */
  Totals totals() throws IOException {
    long lost = 0;
    long dup = 0;
    long runLost = 0;
    long runDup = 0;
    long errors = 0;
    long runs = 0;
    for (String line : lines()) {
      if (line.startsWith("CONNECTED ")) {
        lost += runLost;
        dup += runDup;
        runLost = 0;
        runDup = 0;
        runs++;
      } else if (line.startsWith("STATS ")) {
        Map<String, String> fields = fields(line);
        runLost = Long.parseLong(fields.get("lost"));
        runDup = Long.parseLong(fields.get("dup"));
      } else if (line.startsWith("ERROR ") || line.startsWith("EOF")) {
        errors++;
      }
    }
    return new Totals(lost + runLost, dup + runDup, errors, runs);
  }

  /** The end of the first stall that ended after {@code at}: the client's first byte after a fault there. */
  OptionalLong firstByteAfterStall(long at) throws IOException {
    for (String line : lines()) {
      if (line.startsWith("STALL ")) {
        Map<String, String> fields = fields(line);
        long to = Long.parseLong(fields.get("to"));
        if (to > at && Long.parseLong(fields.get("from")) <= at + 5_000) {
          return OptionalLong.of(to);
        }
      }
    }
    return OptionalLong.empty();
  }

  /**
   * The end of the last stall that began within [{@code from}, {@code until}]: when the client was receiving again
   * after a fault that lasted that long; empty when it never stalled then.
   */
  OptionalLong lastStallEnd(long from, long until) throws IOException {
    OptionalLong last = OptionalLong.empty();
    for (String line : lines()) {
      if (line.startsWith("STALL ")) {
        Map<String, String> fields = fields(line);
        long began = Long.parseLong(fields.get("from"));
        if (began >= from && began <= until) {
          last = OptionalLong.of(Long.parseLong(fields.get("to")));
        }
      }
    }
    return last;
  }

  /** When a run that started after {@code at} received its first echo. */
  OptionalLong firstEchoOfRunAfter(long at) throws IOException {
    boolean started = false;
    for (String line : lines()) {
      if (line.startsWith("CONNECTED ") && Long.parseLong(fields(line).get("at")) >= at) {
        started = true;
      } else if (started && line.startsWith("FIRST ")) {
        return OptionalLong.of(Long.parseLong(fields(line).get("at")));
      }
    }
    return OptionalLong.empty();
  }

  /** The time of the last {@code STATS} line, or 0: the client is alive and receiving if it is recent. */
  long lastReport() throws IOException {
    List<String> lines = lines();
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith("STATS ")) {
        return Long.parseLong(fields(lines.get(i)).get("at"));
      }
    }
    return 0;
  }

  private List<String> lines() throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  static Map<String, String> fields(String line) {
    Map<String, String> fields = new HashMap<>();
    for (String word : line.split(" ")) {
      int eq = word.indexOf('=');
      if (eq > 0) {
        fields.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    return fields;
  }
}
