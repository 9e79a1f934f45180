package dev.armor.faults;

import dev.armor.faults.apps.SequenceServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The "never two instances" check, Jepsen-style, from the apps' own records: every instance of the suite's server
 * writes the wall time of its echoes ({@link SequenceServer}, {@code history-PID}). An instance that served after a
 * later instance had begun serving ran beside it, which no schedule of faults may cause. All nodes share one clock
 * (one machine), so the records of different instances compare directly.
 */
final class RunHistory {

  /** One instance's records: its pid and the times it served (epoch ms, sorted). */
  record Instance(long pid, List<Long> served) {
    long firstMillis() {
      return served.get(0);
    }

    long lastMillis() {
      return served.get(served.size() - 1);
    }
  }

  /** The older instance served {@code times} times, from {@code fromMillis} to {@code untilMillis}, after the newer began. */
  record Overlap(Instance older, Instance newer, int times, long fromMillis, long untilMillis) {
    String describe() {
      return "two instances served at once: pid " + older.pid() + " served " + times + " time(s) within "
          + (untilMillis - fromMillis) + " ms (" + fromMillis + ".." + untilMillis + ") after pid " + newer.pid()
          + " began serving at " + newer.firstMillis();
    }
  }

  private RunHistory() {}

  /** The instances recorded in {@code directory}, by first record. */
  static List<Instance> read(Path directory) throws IOException {
    List<Instance> instances = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("history-")).toList()) {
        long pid = Long.parseLong(file.getFileName().toString().substring("history-".length()));
        List<Long> served = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
          if (!line.isBlank()) {
            served.add(Long.parseLong(line.trim()));
          }
        }
        if (!served.isEmpty()) {
          served.sort(null);
          instances.add(new Instance(pid, List.copyOf(served)));
        }
      }
    }
    instances.sort(Comparator.comparingLong(Instance::firstMillis));
    return instances;
  }

  /** Every pair where the older instance served at or after the newer one's first record. */
  static List<Overlap> overlaps(List<Instance> instances) {
    List<Overlap> overlaps = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      for (int j = i + 1; j < instances.size(); j++) {
        Instance older = instances.get(i);
        Instance newer = instances.get(j);
        List<Long> after = older.served().stream().filter(t -> t >= newer.firstMillis()).toList();
        if (!after.isEmpty()) {
          overlaps.add(new Overlap(older, newer, after.size(), after.get(0), after.get(after.size() - 1)));
        }
      }
    }
    return overlaps;
  }
}
