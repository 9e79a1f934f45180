package dev.armor.daemon;

import dev.armor.relay.RelayConfig;
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
 * @param dataPlane the operator's settings for the relay: hold timeout, replay-log bound and overflow
 */
public record DaemonSettings(
    String node,
    String host,
    int clusterPort,
    String ftmControl,
    Path home,
    Path shimJar,
    boolean ftmCapable,
    Duration requestTimeout,
    DataPlane dataPlane) {

  /**
   * The data-plane settings an operator may change.
   *
   * @param holdTimeout how long a client's connection is held open while its service recovers, before a reset
   * @param replayLogBytes per connection of a replay service, how much of the client's stream is kept for replay
   * @param replayOverflow what a connection past that bound gets at its next recovery: reconnect or reset
   * @param linkKeepalive kernel TCP keepalive idle time of links between daemons (0 = off)
   */
  public record DataPlane(Duration holdTimeout, int replayLogBytes, RelayConfig.ReplayOverflow replayOverflow,
      Duration linkKeepalive) {
    public static final DataPlane DEFAULTS = new DataPlane(RelayConfig.DEFAULT_HOLD_TIMEOUT,
        RelayConfig.DEFAULT_REPLAY_LOG_BYTES, RelayConfig.DEFAULT_REPLAY_OVERFLOW, RelayConfig.DEFAULT_LINK_KEEPALIVE);

    /** The settings before link keepalive existed: keepalive at its default. */
    public DataPlane(Duration holdTimeout, int replayLogBytes, RelayConfig.ReplayOverflow replayOverflow) {
      this(holdTimeout, replayLogBytes, replayOverflow, RelayConfig.DEFAULT_LINK_KEEPALIVE);
    }

    /** The relay's configuration for this node, validated by {@link RelayConfig}. */
    public RelayConfig relayConfig(String node, String host) {
      return RelayConfig.defaults(node, host).withHoldTimeout(holdTimeout).withReplayLogBytes(replayLogBytes)
          .withReplayOverflow(replayOverflow).withLinkKeepalive(linkKeepalive);
    }
  }

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
