package dev.armor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * CPU time the proxy processes of a setup have used (user and kernel, from {@code /proc/PID/stat}), so that the
 * latency measurement can say what each round trip costs the proxies, not only how long it took: on a small shared
 * machine a ping-pong's wall time swings with the neighbours' load from one setup to the next, while the proxies'
 * CPU per round trip hardly does (docs/PERFORMANCE.md, run 9).
 *
 * <p>Counts the listed processes and their descendants alive at the time of the reading (socat forks a child per
 * connection; the latency connection's child lives across the whole measurement). Exited threads' time is in their
 * process's figures; exited children's only once reaped, which is why descendants are read directly.
 */
final class ProxyCpu {

  /** Linux reports process times in USER_HZ ticks, 100 per second on every architecture Armor runs on. */
  private static final double MICROS_PER_TICK = 10_000;

  private final List<Long> pids;

  private ProxyCpu(List<Long> pids) {
    this.pids = pids;
  }

  /** {@code spec}: comma-separated pids, or {@code -} for none (a direct connection has no proxy). */
  static ProxyCpu of(String spec) {
    List<Long> pids = new ArrayList<>();
    if (!spec.equals("-")) {
      for (String pid : spec.split(",")) {
        pids.add(Long.parseLong(pid.trim()));
      }
    }
    return new ProxyCpu(pids);
  }

  boolean isEmpty() {
    return pids.isEmpty();
  }

  /** User and kernel time used so far, in microseconds, summed over the processes and their live descendants. */
  Sample sample() throws IOException {
    long user = 0;
    long kernel = 0;
    for (long pid : withDescendants()) {
      String stat;
      try {
        stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      } catch (NoSuchFileException gone) {
        continue; // a socat child that ended between listing and reading: not the latency connection's
      }
      // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      user += Long.parseLong(fields[11]);
      kernel += Long.parseLong(fields[12]);
    }
    return new Sample(user * MICROS_PER_TICK, kernel * MICROS_PER_TICK);
  }

  private Set<Long> withDescendants() throws IOException {
    Set<Long> all = new LinkedHashSet<>();
    List<Long> pending = new ArrayList<>(pids);
    while (!pending.isEmpty()) {
      long pid = pending.remove(pending.size() - 1);
      if (!all.add(pid)) {
        continue;
      }
      Path tasks = Path.of("/proc/" + pid + "/task");
      if (!Files.isDirectory(tasks)) {
        continue;
      }
      try (var threads = Files.list(tasks)) {
        for (Path task : threads.toList()) {
          try {
            String children = Files.readString(task.resolve("children")).trim();
            if (!children.isEmpty()) {
              for (String child : children.split(" ")) {
                pending.add(Long.parseLong(child));
              }
            }
          } catch (NoSuchFileException threadGone) {
            // the thread ended while listing
          }
        }
      } catch (NoSuchFileException processGone) {
        // the process ended while listing
      }
    }
    return all;
  }

  /** CPU microseconds used, user and kernel. */
  record Sample(double userMicros, double kernelMicros) {
    Sample minus(Sample earlier) {
      return new Sample(userMicros - earlier.userMicros, kernelMicros - earlier.kernelMicros);
    }

    Sample plus(Sample more) {
      return new Sample(userMicros + more.userMicros, kernelMicros + more.kernelMicros);
    }
  }
}
