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
   * Pekko's {@code down-removal-margin}, how long after a member's removal its singletons start elsewhere: by default
   * the split brain resolver's stable-after (7 s), time for a minority side to down itself and stop them. With node
   * leases the FTM's members are declared lost only after their lease surely ended, the FTM runs no apps (the apps are
   * fenced by their own nodes' leases), its tables take majority writes (a minority's fail) and the cluster
   * quarantines a removed member, so the margin only has to cover the lease's own margin. "off" (node leases off):
   * stable-after, Pekko's default.
   */
  public String downRemovalMargin() {
    return enabled() ? margin().toMillis() + " ms" : "off";
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
