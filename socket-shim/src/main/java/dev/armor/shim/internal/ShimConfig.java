package dev.armor.shim.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's arguments, validated once at premain: {@code socket=/abs/daemon-shim.sock} (required; without it the
 * agent stays inert), {@code node=NAME} (default empty), {@code armor=ARMOR_ID} (default: environment variable
 * {@code ARMOR_ARMOR_ID}, else empty), {@code timeout=MILLIS} (request timeout, default 5000), {@code cache=DIR} (where transformed JDK classes are
 * cached, see {@link TransformCache}; default {@code shim-cache} next to the socket, {@code off} for none),
 * {@code heartbeat=MILLIS} (how often a protected app's shim tells its daemon it is alive, default 500),
 * {@code lease=MILLIS} (how long the daemon may leave a heartbeat unanswered before a protected app fences itself,
 * default 5000), {@code fence=on|off} (default on), {@code host=IP} (the node's address, an IP literal: what a
 * connection accepted on a wildcard listener reports as its local address; default none). Arguments are
 * comma-separated {@code key=value} pairs, so no value may contain a comma.
 *
 * <p>Heartbeats and fencing concern protected apps only (an ARMOR id is set): an app wrapped by hand has nobody to
 * restart it, so it neither beats nor halts; see {@link DaemonClient}.
 */
record ShimConfig(Path socket, String node, String armorId, long timeoutMillis, Optional<Path> cacheDir,
    long heartbeatMillis, long leaseMillis, boolean fence, Optional<InetAddress> host) {
  static final long DEFAULT_TIMEOUT_MILLIS = 5000;
  /** Half a second: ten beats a second per node would still cost nothing, and a 3 s hang timeout sees six. */
  static final long DEFAULT_HEARTBEAT_MILLIS = 500;
  /**
   * Five seconds: shorter than the cluster's decision that a node is down (about 2.5 s to call it unreachable plus
   * 7 s stable-after), so the old copy of an app on a frozen node is gone before the FTM starts it elsewhere, and
   * ten heartbeats long, so a busy daemon is not mistaken for a dead one.
   */
  static final long DEFAULT_LEASE_MILLIS = 5000;
  static final String ARMOR_ID_ENV = "ARMOR_ARMOR_ID";

  ShimConfig {
    if (heartbeatMillis <= 0) {
      throw new IllegalArgumentException("agent argument heartbeat must be positive, but was " + heartbeatMillis);
    }
    if (leaseMillis <= heartbeatMillis) {
      throw new IllegalArgumentException("agent argument lease must be longer than heartbeat (" + heartbeatMillis
          + " ms), but was " + leaseMillis + " ms");
    }
  }

  /** A configuration with no node address. */
  ShimConfig(Path socket, String node, String armorId, long timeoutMillis, Optional<Path> cacheDir,
      long heartbeatMillis, long leaseMillis, boolean fence) {
    this(socket, node, armorId, timeoutMillis, cacheDir, heartbeatMillis, leaseMillis, fence, Optional.empty());
  }

  /** A configuration with the default heartbeat, lease and fencing. */
  ShimConfig(Path socket, String node, String armorId, long timeoutMillis, Optional<Path> cacheDir) {
    this(socket, node, armorId, timeoutMillis, cacheDir, DEFAULT_HEARTBEAT_MILLIS, DEFAULT_LEASE_MILLIS, true);
  }

  /**
   * The configuration in {@code agentArgs}, or empty when there is no {@code socket} argument.
   *
   * @throws IllegalArgumentException an argument is malformed; the message names it and the bad value
   */
  /** A configuration without a cache. */
  ShimConfig(Path socket, String node, String armorId, long timeoutMillis) {
    this(socket, node, armorId, timeoutMillis, Optional.empty());
  }

  static Optional<ShimConfig> parse(String agentArgs, Map<String, String> env) {
    String socket = null;
    String node = "";
    String armorId = null;
    long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
    String cache = null;
    long heartbeatMillis = DEFAULT_HEARTBEAT_MILLIS;
    long leaseMillis = DEFAULT_LEASE_MILLIS;
    boolean fence = true;
    Optional<InetAddress> host = Optional.empty();
    for (String pair : agentArgs == null ? new String[0] : agentArgs.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("agent argument must be key=value, but was '" + pair + "'");
      }
      String key = pair.substring(0, eq).trim();
      String value = pair.substring(eq + 1).trim();
      switch (key) {
        case "socket":
          socket = value;
          break;
        case "node":
          node = value;
          break;
        case "armor":
          armorId = value;
          break;
        case "timeout":
          timeoutMillis = parseMillis("timeout", value);
          break;
        case "heartbeat":
          heartbeatMillis = parseMillis("heartbeat", value);
          break;
        case "lease":
          leaseMillis = parseMillis("lease", value);
          break;
        case "fence":
          fence = parseSwitch("fence", value);
          break;
        case "cache":
          cache = value;
          break;
        case "host":
          host = Optional.of(ipLiteral("host", value));
          break;
        default:
          throw new IllegalArgumentException("agent argument must be one of socket, node, armor, timeout, cache,"
              + " heartbeat, lease, fence, host, but was '" + key + "'");
      }
    }
    if (socket == null) {
      return Optional.empty();
    }
    if (armorId == null) {
      armorId = env.getOrDefault(ARMOR_ID_ENV, "");
    }
    Path socketPath = socketPath(socket);
    return Optional.of(new ShimConfig(socketPath, node, armorId, timeoutMillis, cacheDir(cache, socketPath),
        heartbeatMillis, leaseMillis, fence, host));
  }

  /** An IP address written as one (never a name: premain must not wait for a resolver). */
  private static InetAddress ipLiteral(String key, String value) {
    if (!value.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      throw new IllegalArgumentException("agent argument " + key + " must be an IP address, but was '" + value + "'");
    }
    try {
      return InetAddress.getByName(value); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("agent argument " + key + " must be an IP address, but was '" + value + "'");
    }
  }

  private static Path socketPath(String value) {
    Path path = Path.of(value);
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("agent argument socket must be an absolute path, but was '" + value + "'");
    }
    return path;
  }

  private static Optional<Path> cacheDir(String value, Path socket) {
    if (value == null) {
      Path parent = socket.getParent();
      return parent == null ? Optional.empty() : Optional.of(parent.resolve(TransformCache.DEFAULT_DIR_NAME));
    }
    if (value.equals("off")) {
      return Optional.empty();
    }
    Path path = Path.of(value);
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("agent argument cache must be an absolute path or off, but was '" + value + "'");
    }
    return Optional.of(path);
  }

  private static boolean parseSwitch(String key, String value) {
    return switch (value) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("agent argument " + key + " must be on or off, but was '" + value + "'");
    };
  }

  private static long parseMillis(String key, String value) {
    long millis;
    try {
      millis = Long.parseLong(value);
    } catch (NumberFormatException e) {
      millis = -1;
    }
    if (millis <= 0) {
      throw new IllegalArgumentException(
          "agent argument " + key + " must be a positive number of milliseconds, but was '" + value + "'");
    }
    return millis;
  }

  /** A protected app: launched by an Execution ARMOR, which restarts it. */
  boolean isProtected() {
    return !armorId.isEmpty();
  }

  /** Whether this shim sends heartbeats: only a protected app's does, as only an Execution ARMOR watches them. */
  boolean heartbeats() {
    return isProtected();
  }

  /** Whether this process halts when its daemon is gone: a protected app's, unless {@code fence=off}. */
  boolean fences() {
    return isProtected() && fence;
  }

  long heartbeatNanos() {
    return heartbeatMillis * 1_000_000L;
  }

  long leaseNanos() {
    return leaseMillis * 1_000_000L;
  }

  long timeoutNanos() {
    return timeoutMillis * 1_000_000L;
  }

  /** How failures name the daemon: "the Armor daemon at /run/armor/shim.sock for node n1". */
  String daemonName() {
    return "the Armor daemon at " + socket + " for node " + (node.isEmpty() ? "(unnamed)" : node);
  }
}
