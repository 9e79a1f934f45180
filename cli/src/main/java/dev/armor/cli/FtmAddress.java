package dev.armor.cli;

import picocli.CommandLine.Option;

/**
 * The {@code --ftm HOST:PORT[,HOST:PORT...]} option, shared by the commands that talk to an FTM: an FTM process's
 * control address, or an FTM-capable daemon's; with several, the first that answers is used.
 */
final class FtmAddress {

  static final String DEFAULT = "127.0.0.1:7700";

  @Option(
      names = "--ftm",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "The FTM's control address, or several (an FTM and FTM-capable daemons; the first that answers "
          + "is used) (default: $ARMOR_FTM, else " + DEFAULT + ").")
  String ftm;

  /** The addresses of a comma-separated list; a malformed one is a clear error. */
  static java.util.List<String> split(String targets) {
    java.util.List<String> list = java.util.Arrays.stream(targets.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList();
    if (list.isEmpty()) {
      throw new IllegalArgumentException("--ftm must be HOST:PORT[,HOST:PORT...], but was '" + targets + "'");
    }
    for (String target : list) {
      if (!target.matches(".+:\\d{1,5}")) {
        throw new IllegalArgumentException("--ftm must be HOST:PORT[,HOST:PORT...], but '" + target + "' has no port");
      }
    }
    return list;
  }

  String target() {
    if (ftm != null && !ftm.isBlank()) {
      return ftm;
    }
    String env = System.getenv("ARMOR_FTM");
    return env == null || env.isBlank() ? DEFAULT : env;
  }
}
