package dev.armor.ftm.lease;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The node lease's timings, all derived from one setting ({@code armor.node-lease}, {@code armor ftm|daemon
 * --node-lease}; 0 turns node leases off and leaves node loss to the cluster's downing alone).
 *
 * @param lease how long a daemon runs its apps on one renewal (default 3 s)
 */
public record NodeLeaseSettings(Duration lease) {

  /** The configuration key (armor-cluster.conf has the default). */
  public static final String KEY = "armor.node-lease";

  /**
   * Default: a lost node's work moves about 3 s after the loss, and a host so loaded that a node's messages stall for
   * two seconds (measured here while six JVMs started at once on two cores) costs no node its lease. 1.5 s moves work
   * within 2 s on hosts that are not overloaded.
   */
  public static final Duration DEFAULT = Duration.ofSeconds(3);

  /** Below this, one scheduling hiccup of a loaded host would cost a node its lease. */
  public static final Duration MINIMUM = Duration.ofMillis(500);

  public static final NodeLeaseSettings OFF = new NodeLeaseSettings(Duration.ZERO);

  public NodeLeaseSettings {
    if (lease == null || lease.isNegative() || (!lease.isZero() && lease.compareTo(MINIMUM) < 0)) {
      throw new IllegalArgumentException("node-lease must be 0 (off) or at least " + MINIMUM.toMillis() + "ms, but was "
          + (lease == null ? "null" : lease.toMillis() + "ms"));
    }
  }

  public static NodeLeaseSettings from(Config config) {
    return config.hasPath(KEY) ? new NodeLeaseSettings(config.getDuration(KEY)) : OFF;
  }

  public boolean enabled() {
    return !lease.isZero();
  }

  /** A renewal goes out five times per lease: four may be lost or late before the lease ends. */
  public Duration renewEvery() {
    return lease.dividedBy(5);
  }

  /**
   * What a witness adds to a lease before it says the lease has surely ended: the apps' shims wake up and halt at
   * the lease's end (a few ms, more on a loaded host) and hosts' clocks run at slightly different rates (ppm). A
   * tenth of the lease, at least 100 ms.
   */
  public Duration margin() {
    Duration tenth = lease.dividedBy(10);
    return tenth.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : tenth;
  }
}
