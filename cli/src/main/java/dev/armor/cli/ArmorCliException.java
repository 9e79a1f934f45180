package dev.armor.cli;

/** A command failed for a reason the operator can act on; the message says it. */
final class ArmorCliException extends RuntimeException {
  ArmorCliException(String message) {
    super(message);
  }
}
