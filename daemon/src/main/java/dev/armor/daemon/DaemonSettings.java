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
 * @param detection how fast a lost node is detected (failure detector pause, split brain resolver stable-after,
 *     the FTM's heartbeat interval when this node hosts the FTM)
 * @param controlPort an FTM-capable daemon's gRPC control API port on {@code host} (default 7700, as {@code armor ftm})
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
    DataPlane dataPlane,
    dev.armor.ftm.ClusterNodeConfig.Detection detection,
    int controlPort) {

  public static final int DEFAULT_CONTROL_PORT = 7700;

  /** The settings with the default detection and control port. */
  public DaemonSettings(String node, String host, int clusterPort, String ftmControl, Path home, Path shimJar,
      boolean ftmCapable, Duration requestTimeout, DataPlane dataPlane) {
    this(node, host, clusterPort, ftmControl, home, shimJar, ftmCapable, requestTimeout, dataPlane,
        dev.armor.ftm.ClusterNodeConfig.Detection.DEFAULTS, DEFAULT_CONTROL_PORT);
  }

  /**
   * The data-plane settings an operator may change.
   *
   * @param holdTimeout how long a client's connection is held open while its service recovers, before a reset
   * @param replayLogBytes per connection of a replay service, how much of the client's stream is kept for replay
   * @param replayOverflow what a connection past that bound gets at its next recovery: reconnect or reset
   */
  public record DataPlane(Duration holdTimeout, int replayLogBytes, RelayConfig.ReplayOverflow replayOverflow) {
    public static final DataPlane DEFAULTS = new DataPlane(RelayConfig.DEFAULT_HOLD_TIMEOUT,
        RelayConfig.DEFAULT_REPLAY_LOG_BYTES, RelayConfig.DEFAULT_REPLAY_OVERFLOW);

    /** The relay's configuration for this node, validated by {@link RelayConfig}. */
    public RelayConfig relayConfig(String node, String host) {
      return RelayConfig.defaults(node, host).withHoldTimeout(holdTimeout).withReplayLogBytes(replayLogBytes)
          .withReplayOverflow(replayOverflow);
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
    if (ftmControl == null || !ftmControl.matches("[^,]+:\\d+(,[^,]+:\\d+)*")) {
      throw new IllegalArgumentException("join must be the FTM's HOST:PORT (several separated by commas), but was '"
          + ftmControl + "'");
    }
    if (controlPort < 1 || controlPort > 65535) {
      throw new IllegalArgumentException("control-port must be in 1..65535, but was " + controlPort);
    }
    if (detection == null) {
      throw new IllegalArgumentException("detection settings must be given");
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
