package dev.armor.relay.internal;

import dev.armor.relay.RelayConfig.LinkMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which kind of link a new attempt opens ({@link dev.armor.relay.RelayConfig#links()}). {@link LinkMode#AUTO}:
 * dedicated links (the fastest) while the process's open descriptors stay under half of its limit
 * ({@code RLIMIT_NOFILE}, from {@code /proc/self/limits}), multiplexed links once they pass it (a dedicated link costs
 * a descriptor per connection on each daemon, so a daemon with many connections runs out of descriptors at half the
 * connections it could otherwise carry), dedicated again below {@link #BACK_SHARE} of the limit. The descriptors are
 * counted ({@code /proc/self/fd}) at most once per {@link #SAMPLE_NANOS}, off the event loops (a few ms with
 * 10,000 open), when a link is opened:
 * a relay with no new connections counts nothing. Existing links keep their kind.
 */
final class LinkModes {

  private static final Logger log = LoggerFactory.getLogger(LinkModes.class);

  /** Above this share of the limit, new links are multiplexed. */
  static final double SHARE = 0.5;
  /** Below this share, dedicated again (a margin, so that a count near the threshold does not flap). */
  static final double BACK_SHARE = 0.4;
  static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private final LinkMode mode;
  private final String nodeName;
  private final java.util.concurrent.Executor sampler;
  private final long limit;
  private final java.util.function.LongSupplier descriptors;
  private volatile boolean multiplexed;
  private volatile long nextSampleNanos = System.nanoTime();
  private final AtomicBoolean sampling = new AtomicBoolean();

  LinkModes(LinkMode mode, String nodeName, java.util.concurrent.Executor sampler) {
    this(mode, nodeName, sampler, mode == LinkMode.AUTO ? openFilesLimit() : -1, LinkModes::openDescriptors);
  }

  /** With a given limit and descriptor count (tests). */
  LinkModes(LinkMode mode, String nodeName, java.util.concurrent.Executor sampler, long limit,
      java.util.function.LongSupplier descriptors) {
    this.mode = mode;
    this.nodeName = nodeName;
    this.sampler = sampler;
    this.limit = limit;
    this.descriptors = descriptors;
    this.multiplexed = mode == LinkMode.MULTIPLEXED;
    if (mode == LinkMode.AUTO && limit <= 0) {
      log.warn("relay {}: links auto: the open files limit is unknown (no /proc/self/limits): links stay dedicated",
          nodeName);
    }
  }

  /** Whether a link opened now is multiplexed. Any thread. */
  boolean multiplexed() {
    if (mode == LinkMode.AUTO && limit > 0) {
      long now = System.nanoTime();
      if (now - nextSampleNanos >= 0 && sampling.compareAndSet(false, true)) {
        nextSampleNanos = now + SAMPLE_NANOS;
        try {
          sampler.execute(this::sample);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          sampling.set(false); // closing
        }
      }
    }
    return multiplexed;
  }

  /** What the log's start-up line says. */
  String describe() {
    return switch (mode) {
      case DEDICATED -> "dedicated (one TCP link per connection)";
      case MULTIPLEXED -> "multiplexed (streams of shared TCP connections)";
      case AUTO -> limit > 0
          ? "auto (dedicated until " + (long) (limit * SHARE) + " of " + limit + " descriptors are open)"
          : "auto (limit unknown: dedicated)";
    };
  }

  private void sample() {
    try {
      long open = descriptors.getAsLong();
      if (open < 0) {
        return;
      }
      if (!multiplexed && open > limit * SHARE) {
        multiplexed = true;
        log.warn(
            "relay {}: {} of the process's {} file descriptors are open (over {} %): new connections' links are"
                + " now multiplexed over shared connections to each daemon (one descriptor per connection instead of"
                + " two); existing links stay as they are",
            nodeName, open, limit, (int) (SHARE * 100));
      } else if (multiplexed && open < limit * BACK_SHARE) {
        multiplexed = false;
        log.info(
            "relay {}: {} of the process's {} file descriptors are open (under {} %): new connections get dedicated"
                + " links again",
            nodeName, open, limit, (int) (BACK_SHARE * 100));
      }
    } finally {
      sampling.set(false);
    }
  }

  /** The soft RLIMIT_NOFILE of this process, or -1 if unknown (not Linux) or unlimited. */
  static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] fields = line.substring("Max open files".length()).trim().split("\\s+");
          return fields[0].equals("unlimited") ? -1 : Long.parseLong(fields[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read the open files limit: {}", e.toString());
    }
    return -1;
  }

  /** The number of open descriptors of this process, or -1 if unknown. */
  static long openDescriptors() {
    String[] fds = new java.io.File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }
}
