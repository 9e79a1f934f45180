package dev.armor.cli;

/** A port option checked before anything starts, in one line that names the option and the range. */
final class Ports {

  private Ports() {}

  static int check(String option, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(option + " must be a port from 1 to 65535, but was " + port);
    }
    return port;
  }
}
