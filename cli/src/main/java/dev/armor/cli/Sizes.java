package dev.armor.cli;

/** Parses byte sizes written as {@code 1048576}, {@code 512KiB}, {@code 8MiB} or {@code 1GiB}. */
final class Sizes {

  private Sizes() {}

  static long parse(String setting, String text) {
    String t = text.trim();
    long unit = 1;
    if (t.endsWith("KiB")) {
      unit = 1L << 10;
    } else if (t.endsWith("MiB")) {
      unit = 1L << 20;
    } else if (t.endsWith("GiB")) {
      unit = 1L << 30;
    }
    String number = unit == 1 ? t : t.substring(0, t.length() - 3);
    try {
      long value = Long.parseLong(number.trim());
      if (value > 0 && value <= Long.MAX_VALUE / unit) {
        return value * unit;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException(setting + " must be a positive size like 1048576, 512KiB or 8MiB, but was '" + text + "'");
  }
}
