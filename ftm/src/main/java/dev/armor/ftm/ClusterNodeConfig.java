package dev.armor.ftm;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.armor.security.Credentials;
import java.util.List;
import java.util.stream.Collectors;

/** The Pekko configuration of an Armor node: cluster provider, its own address, seeds, roles. */
public final class ClusterNodeConfig {

  public static final String SYSTEM_NAME = "armor";
  public static final int DEFAULT_CLUSTER_PORT = 25520;

  private ClusterNodeConfig() {}

  public static String address(String host, int port) {
    return "pekko://" + SYSTEM_NAME + "@" + host + ":" + port;
  }

  /** {@code host:port} of a member's address: how the FTM's tables, its events and the node leases name members. */
  public static String hostPort(org.apache.pekko.actor.Address address) {
    return address.host().getOrElse(() -> "?") + ":" + address.port().getOrElse(() -> 0);
  }

  /**
   * How fast a lost node is detected and its work moved, set per process ({@code armor ftm|daemon} options).
   *
   * @param acceptablePause the failure detector's acceptable heartbeat pause: silence longer than this makes a
   *     member unreachable (default 2 s)
   * @param stableAfter how long the unreachability picture must stay unchanged before the split brain resolver
   *     downs the unreachable members (default 7 s)
   * @param heartbeatInterval how often the FTM pings each daemon, for the log and status only (default 1 s)
   * @param nodeLease how long a daemon's node lease lasts (default 1.5 s; 0: node leases off, a node is lost only
   *     when the cluster downs it), see {@link dev.armor.ftm.lease.NodeLeaseSettings}
   */
  public record Detection(java.time.Duration acceptablePause, java.time.Duration stableAfter,
      java.time.Duration heartbeatInterval, dev.armor.ftm.lease.NodeLeaseSettings nodeLease) {
    public static final Detection DEFAULTS = new Detection(java.time.Duration.ofSeconds(2),
        java.time.Duration.ofSeconds(7), java.time.Duration.ofSeconds(1),
        new dev.armor.ftm.lease.NodeLeaseSettings(dev.armor.ftm.lease.NodeLeaseSettings.DEFAULT));

    public Detection {
      positive("detection-pause", acceptablePause);
      positive("stable-after", stableAfter);
      positive("heartbeat-interval", heartbeatInterval);
      java.util.Objects.requireNonNull(nodeLease, "nodeLease");
      if (acceptablePause.toMillis() < 1000) {
        // The failure detector's heartbeats go every 500 ms: a pause under two of them flaps on any hiccup.
        throw new IllegalArgumentException("detection-pause must be at least 1s, but was " + acceptablePause.toMillis() + "ms");
      }
    }

    private static void positive(String name, java.time.Duration value) {
      if (value == null || value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, but was " + (value == null ? "null" : value.toMillis() + "ms"));
      }
    }

    String hocon() {
      return "pekko.cluster.failure-detector.acceptable-heartbeat-pause = " + acceptablePause.toMillis() + " ms\n"
          + "pekko.cluster.split-brain-resolver.stable-after = " + stableAfter.toMillis() + " ms\n"
          + "armor.ftm.heartbeat-interval = " + heartbeatInterval.toMillis() + " ms\n"
          + dev.armor.ftm.lease.NodeLeaseSettings.KEY + " = " + nodeLease.lease().toMillis() + " ms\n"
          + "pekko.cluster.down-removal-margin = " + nodeLease.downRemovalMargin() + "\n";
    }
  }

  /**
   * A node's configuration without TLS on the cluster transport: for nodes of one test JVM only. Every process Armor
   * starts uses {@link #build(String, int, List, List, Detection, Credentials)}.
   */
  public static Config buildInsecure(String host, int port, List<String> seedNodes, List<String> roles) {
    return build(host, port, seedNodes, roles, null, null);
  }

  /**
   * A node's configuration: its address, seeds, roles, the detection settings (null: armor-cluster.conf's defaults)
   * and the node's credentials, which make the cluster transport mutual TLS ({@link ClusterTransportTls}).
   */
  public static Config build(String host, int port, List<String> seedNodes, List<String> roles, Detection detection,
      Credentials node) {
    String seeds = seedNodes.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(","));
    String roleList = roles.stream().map(r -> "\"" + r + "\"").collect(Collectors.joining(","));
    return ConfigFactory.systemProperties()
        .withFallback(ConfigFactory.parseString(
            "pekko.remote.artery.canonical.hostname = \"" + host + "\"\n"
                + "pekko.remote.artery.canonical.port = " + port + "\n"
                + "pekko.remote.artery.bind.hostname = \"" + host + "\"\n"
                + "pekko.cluster.seed-nodes = [" + seeds + "]\n"
                + "pekko.cluster.roles = [" + roleList + "]\n"
                + (detection == null ? "" : detection.hocon())
                + (node == null ? "" : ClusterTransportTls.hocon(node))))
        .withFallback(ConfigFactory.parseResources(ClusterNodeConfig.class.getClassLoader(), "armor-cluster.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }
}
