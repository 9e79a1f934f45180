package dev.armor.shim.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's arguments, validated once at premain: {@code socket=/abs/daemon-shim.sock} (required; without it the
 * agent stays inert), {@code node=NAME} (default empty), {@code armor=ARMOR_ID} (default: environment variable
 * {@code ARMOR_ARMOR_ID}, else empty), {@code timeout=MILLIS} (request timeout, default 5000). Arguments are
 * comma-separated {@code key=value} pairs, so no value may contain a comma.
 */
record ShimConfig(Path socket, String node, String armorId, long timeoutMillis) {
  static final long DEFAULT_TIMEOUT_MILLIS = 5000;
  static final String ARMOR_ID_ENV = "ARMOR_ARMOR_ID";

  /**
   * The configuration in {@code agentArgs}, or empty when there is no {@code socket} argument.
   *
   * @throws IllegalArgumentException an argument is malformed; the message names it and the bad value
   */
  static Optional<ShimConfig> parse(String agentArgs, Map<String, String> env) {
    String socket = null;
    String node = "";
    String armorId = null;
    long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
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
        default:
          throw new IllegalArgumentException(
              "agent argument must be one of socket, node, armor, timeout, but was '" + key + "'");
      }
    }
    if (socket == null) {
      return Optional.empty();
    }
    if (armorId == null) {
      armorId = env.getOrDefault(ARMOR_ID_ENV, "");
    }
    return Optional.of(new ShimConfig(socketPath(socket), node, armorId, timeoutMillis));
  }

  private static Path socketPath(String value) {
    Path path = Path.of(value);
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("agent argument socket must be an absolute path, but was '" + value + "'");
    }
    return path;
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
