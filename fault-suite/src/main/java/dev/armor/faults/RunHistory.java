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
 * writes the wall time of its echoes ({@link SequenceServer}, {@code history-PID}); two instances whose first-to-last
 * echo spans overlap served at once, which no schedule of faults may cause. All nodes share one clock (one machine),
 * so the records of different instances compare directly.
 */
final class RunHistory {

  /** One instance's span of service: its pid and its first and last echo (epoch ms). */
  record Instance(long pid, long firstMillis, long lastMillis) {}

  /** Two instances that served at once for {@code millis}. */
  record Overlap(Instance earlier, Instance later, long millis) {
    String describe() {
      return "two instances served at once for " + millis + " ms: pid " + earlier.pid() + " until "
          + earlier.lastMillis() + ", pid " + later.pid() + " from " + later.firstMillis();
    }
  }

  private RunHistory() {}

  /** The instances recorded in {@code directory}, by first echo. */
  static List<Instance> read(Path directory) throws IOException {
    List<Instance> instances = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("history-")).toList()) {
        long pid = Long.parseLong(file.getFileName().toString().substring("history-".length()));
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (String line : Files.readAllLines(file)) {
          if (!line.isBlank()) {
            long at = Long.parseLong(line.trim());
            first = Math.min(first, at);
            last = Math.max(last, at);
          }
        }
        if (first != Long.MAX_VALUE) {
          instances.add(new Instance(pid, first, last));
        }
      }
    }
    instances.sort(Comparator.comparingLong(Instance::firstMillis));
    return instances;
  }

  /** Every pair of instances whose spans overlap. */
  static List<Overlap> overlaps(List<Instance> instances) {
    List<Overlap> overlaps = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      for (int j = i + 1; j < instances.size(); j++) {
        Instance a = instances.get(i);
        Instance b = instances.get(j);
        if (b.firstMillis() <= a.lastMillis()) {
          overlaps.add(new Overlap(a, b, Math.min(a.lastMillis(), b.lastMillis()) - b.firstMillis()));
        }
      }
    }
    return overlaps;
  }
}
