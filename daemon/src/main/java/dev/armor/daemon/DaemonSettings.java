package dev.armor.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a daemon is configured, validated once here.
 *
 * @param node the node's name, unique in the cluster
 * @param host the node's own address: the cluster endpoint and the data plane bind here
 * @param clusterPort the cluster endpoint's port (default 25520)
 * @param ftmControl the FTM control address {@code host:port} used to find the cluster to join
 * @param home Armor's working directory on this node: {@code run/NODE/} (private) holds the shim socket,
 *     {@code logs/} the protected processes' output
 * @param shimJar the socket shim agent jar injected into protected JVMs
 * @param ftmCapable also host the FTM singleton when this node is the oldest FTM-capable one
 * @param requestTimeout how long a request to the FTM may take
 */
public record DaemonSettings(
    String node,
    String host,
    int clusterPort,
    String ftmControl,
    Path home,
    Path shimJar,
    boolean ftmCapable,
    Duration requestTimeout) {

  public DaemonSettings {
    if (node == null || !node.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new IllegalArgumentException("node must be 1-64 letters, digits, '.', '_' or '-', but was '" + node + "'");
    }
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must be the node's address, but was empty");
    }
    if (clusterPort < 1 || clusterPort > 65535) {
      throw new IllegalArgumentException("cluster-port must be in 1..65535, but was " + clusterPort);
    }
    if (ftmControl == null || !ftmControl.matches(".+:\\d+")) {
      throw new IllegalArgumentException("join must be the FTM's HOST:PORT, but was '" + ftmControl + "'");
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("request-timeout must be positive, but was " + requestTimeout);
    }
  }

  public Path runDirectory() {
    return home.resolve("run").resolve(node);
  }

  public Path shimSocket() {
    return runDirectory().resolve("shim.sock");
  }

  public Path logDirectory() {
    return home.resolve("logs");
  }

  /** The JVM options that load the shim, wired to this daemon, for an app launched by {@code armorId}. */
  public String agentOptions(String armorId) {
    return "-javaagent:" + shimJar + "=socket=" + shimSocket() + ",node=" + node
        + (armorId == null || armorId.isEmpty() ? "" : ",armor=" + armorId);
  }
}
