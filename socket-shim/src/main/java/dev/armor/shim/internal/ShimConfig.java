package dev.armor.shim.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's arguments, validated once at premain: {@code socket=/abs/daemon-shim.sock} (required; without it the
 * agent stays inert), {@code node=NAME} (default empty), {@code armor=ARMOR_ID} (default: environment variable
 * {@code ARMOR_ARMOR_ID}, else empty), {@code timeout=MILLIS} (request timeout, default 5000), {@code cache=DIR} (where transformed JDK classes are
 * cached, see {@link TransformCache}; default {@code shim-cache} next to the socket, {@code off} for none). Arguments are
 * comma-separated {@code key=value} pairs, so no value may contain a comma.
 */
record ShimConfig(Path socket, String node, String armorId, long timeoutMillis, Optional<Path> cacheDir) {
  static final long DEFAULT_TIMEOUT_MILLIS = 5000;
  static final String ARMOR_ID_ENV = "ARMOR_ARMOR_ID";

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
          timeoutMillis = parseTimeout(value);
          break;
        case "cache":
          cache = value;
          break;
        default:
          throw new IllegalArgumentException(
              "agent argument must be one of socket, node, armor, timeout, cache, but was '" + key + "'");
      }
    }
    if (socket == null) {
      return Optional.empty();
    }
    if (armorId == null) {
      armorId = env.getOrDefault(ARMOR_ID_ENV, "");
    }
    Path socketPath = socketPath(socket);
    return Optional.of(new ShimConfig(socketPath, node, armorId, timeoutMillis, cacheDir(cache, socketPath)));
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

  private static long parseTimeout(String value) {
    long millis;
    try {
      millis = Long.parseLong(value);
    } catch (NumberFormatException e) {
      millis = -1;
    }
    if (millis <= 0) {
      throw new IllegalArgumentException(
          "agent argument timeout must be a positive number of milliseconds, but was '" + value + "'");
    }
    return millis;
  }

  long timeoutNanos() {
    return timeoutMillis * 1_000_000L;
  }

  /** How failures name the daemon: "the Armor daemon at /run/armor/shim.sock for node n1". */
  String daemonName() {
    return "the Armor daemon at " + socket + " for node " + (node.isEmpty() ? "(unnamed)" : node);
  }
}
