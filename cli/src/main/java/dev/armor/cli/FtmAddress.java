package dev.armor.cli;

import picocli.CommandLine.Option;

/** The {@code --ftm HOST:PORT} option, shared by the commands that talk to an FTM. */
final class FtmAddress {

  static final String DEFAULT = "127.0.0.1:7700";

  @Option(
      names = "--ftm",
      paramLabel = "HOST:PORT",
      description = "The FTM's control address (default: $ARMOR_FTM, else " + DEFAULT + ").")
  String ftm;

  String target() {
    if (ftm != null && !ftm.isBlank()) {
      return ftm;
    }
    String env = System.getenv("ARMOR_FTM");
    return env == null || env.isBlank() ? DEFAULT : env;
  }
}
