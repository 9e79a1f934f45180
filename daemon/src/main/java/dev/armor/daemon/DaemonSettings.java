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
 * @param liveness heartbeats of protected apps, hang detection and the shims' fencing
 * @param executionArmors where Execution ARMORs run (in the daemon or as processes) and how they are heartbeated
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
    Liveness liveness,
    ExecutionArmors executionArmors,
    dev.armor.ftm.ClusterNodeConfig.Detection detection,
    int controlPort) {

  public static final int DEFAULT_CONTROL_PORT = 7700;

  /** The settings with every later addition at its default: liveness, ARMOR hosting, detection, control port. */
  public DaemonSettings(String node, String host, int clusterPort, String ftmControl, Path home, Path shimJar,
      boolean ftmCapable, Duration requestTimeout, DataPlane dataPlane) {
    this(node, host, clusterPort, ftmControl, home, shimJar, ftmCapable, requestTimeout, dataPlane, Liveness.DEFAULTS,
        ExecutionArmors.DEFAULTS, dev.armor.ftm.ClusterNodeConfig.Detection.DEFAULTS, DEFAULT_CONTROL_PORT);
  }

  /**
   * How protected apps are watched, and how they watch their daemon.
   *
   * @param heartbeat how often a protected app's shim beats (default 500 ms)
   * @param hangTimeout silence after which a protected process is hung, killed and restarted, for launches that do
   *     not set their own (default 3 s: see {@code ExecutionElement.DEFAULT_HANG_TIMEOUT})
   * @param lease how long a heartbeat may stay unanswered before the app fences itself (default 5 s: shorter than
   *     the cluster's down decision, about 2.5 s unreachable + 7 s stable-after, so the old copy on a frozen node
   *     is dead before its work starts elsewhere)
   * @param fence whether protected apps halt themselves when this daemon dies or freezes (default true)
   */
  public record Liveness(Duration heartbeat, Duration hangTimeout, Duration lease, boolean fence) {
    public static final Liveness DEFAULTS =
        new Liveness(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(5), true);

    public Liveness {
      if (heartbeat.isNegative() || heartbeat.isZero()) {
        throw new IllegalArgumentException("heartbeat must be positive, but was " + heartbeat);
      }
      dev.armor.elements.HangTimeout.tooShort("hang-timeout", hangTimeout, heartbeat).ifPresent(why -> {
        throw new IllegalArgumentException(why);
      });
      if (lease.compareTo(heartbeat.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException("shim-lease must be at least two heartbeats (" + heartbeat.toMillis()
            + " ms), but was " + lease.toMillis() + " ms");
      }
    }
  }

  /**
   * How this daemon hosts its Execution ARMORs.
   *
   * @param mode {@code IN_DAEMON} (default: one JVM fewer per protected app, and an app's recovery does not wait
   *     for a JVM to start) or {@code PROCESS} (each ARMOR a JVM of its own, as in the original ARMOR design: a
   *     fault in an ARMOR cannot take the daemon or the other ARMORs with it)
   * @param heartbeat how often the daemon asks each local ARMOR whether it is alive (default 1 s)
   * @param heartbeatTimeout an ARMOR silent for this long is hung: a process-mode ARMOR is killed and reinstalled;
   *     an in-daemon one is reported (default 5 s: well above a loaded machine's GC and scheduling pauses)
   */
  public record ExecutionArmors(Mode mode, Duration heartbeat, Duration heartbeatTimeout) {
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);
    public static final ExecutionArmors DEFAULTS =
        new ExecutionArmors(Mode.IN_DAEMON, DEFAULT_HEARTBEAT, DEFAULT_HEARTBEAT_TIMEOUT);

    /** Where an Execution ARMOR runs. */
    public enum Mode {
      /** An actor inside the daemon's JVM. */
      IN_DAEMON,
      /** A JVM of its own, a leaf behind its daemon, reached over a Unix socket. */
      PROCESS;

      /** Parses the CLI spelling ({@code in-daemon}, {@code process}). */
      public static Mode parse(String value) {
        return switch (value) {
          case "in-daemon" -> IN_DAEMON;
          case "process" -> PROCESS;
          default -> throw new IllegalArgumentException(
              "execution-armors must be in-daemon or process, but was '" + value + "'");
        };
      }
    }

    public ExecutionArmors {
      if (mode == null) {
        throw new IllegalArgumentException("execution-armors must be in-daemon or process, but was not given");
      }
      if (heartbeat.isNegative() || heartbeat.isZero()) {
        throw new IllegalArgumentException("armor-heartbeat must be positive, but was " + heartbeat);
      }
      if (heartbeatTimeout.compareTo(heartbeat) <= 0) {
        throw new IllegalArgumentException("armor-heartbeat-timeout must be longer than armor-heartbeat ("
            + heartbeat + "), but was " + heartbeatTimeout);
      }
    }
  }

  /**
   * The data-plane settings an operator may change.
   *
   * @param holdTimeout how long a client's connection is held open while its service recovers, before a reset
   * @param replayLogBytes per connection of a replay service, how much of the client's stream is kept for replay
   * @param replayOverflow what a connection past that bound gets at its next recovery: reconnect or reset
   * @param recoveryStallTimeout how long a recovered connection waits for the new instance to speak (see RelayConfig)
   * @param linkKeepalive kernel TCP keepalive idle time of links between daemons (0 = off)
   * @param links dedicated links, links multiplexed over shared connections, or auto (see RelayConfig#links)
   * @param dataPath whether the client's daemon connects straight to the server app (see RelayConfig#dataPath)
   */
  public record DataPlane(Duration holdTimeout, int replayLogBytes, RelayConfig.ReplayOverflow replayOverflow,
      Duration recoveryStallTimeout, Duration linkKeepalive, RelayConfig.LinkMode links, RelayConfig.DataPath dataPath) {
    public static final DataPlane DEFAULTS = new DataPlane(RelayConfig.DEFAULT_HOLD_TIMEOUT,
        RelayConfig.DEFAULT_REPLAY_LOG_BYTES, RelayConfig.DEFAULT_REPLAY_OVERFLOW,
        RelayConfig.DEFAULT_RECOVERY_STALL_TIMEOUT, RelayConfig.DEFAULT_LINK_KEEPALIVE, RelayConfig.DEFAULT_LINKS,
        RelayConfig.DEFAULT_DATA_PATH);

    /** The relay's configuration for this node, validated by {@link RelayConfig}. */
    public RelayConfig relayConfig(String node, String host) {
      return RelayConfig.defaults(node, host).withHoldTimeout(holdTimeout).withReplayLogBytes(replayLogBytes)
          .withReplayOverflow(replayOverflow).withRecoveryStallTimeout(recoveryStallTimeout)
          .withLinkKeepalive(linkKeepalive).withLinks(links)
          .withDataPath(dataPath);
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
    if (liveness == null || executionArmors == null) {
      throw new IllegalArgumentException("liveness and execution-armors settings must be given");
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

  /** The Unix socket the Execution ARMOR processes connect to (in the private run directory). */
  public Path armorSocket() {
    return runDirectory().resolve("armors.sock");
  }

  public Path logDirectory() {
    return home.resolve("logs");
  }

  /**
   * The shim's {@code host} argument for a node at {@code host} (what the connections a server accepts on a
   * wildcard bind report as their local address), or nothing when it is not an IP literal: the shim takes no names,
   * so that no app's start waits for a resolver.
   */
  public static String hostAgentArgument(String host) {
    boolean literal = host != null
        && (host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.matches("[0-9a-fA-F:]*:[0-9a-fA-F:.]*"));
    return literal ? ",host=" + host : "";
  }

  /**
   * The JVM options that load the shim, wired to this daemon, for an app launched by {@code armorId}; a protected
   * app's (one with an ARMOR id) also carry the heartbeat, lease and fencing settings.
   */
  public String agentOptions(String armorId) {
    return agentOptions(armorId, shimSocket());
  }

  /** As {@link #agentOptions(String)}, the shim connecting to {@code socket} (an app run as another user's). */
  public String agentOptions(String armorId, Path socket) {
    String options = "-javaagent:" + shimJar + "=socket=" + socket + ",node=" + node + hostAgentArgument(host);
    if (armorId == null || armorId.isEmpty()) {
      return options;
    }
    return options + ",armor=" + armorId + ",heartbeat=" + liveness.heartbeat().toMillis() + ",lease="
        + liveness.lease().toMillis() + (liveness.fence() ? "" : ",fence=off");
  }
}
