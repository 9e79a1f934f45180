package dev.armor.shim.internal;

import java.lang.System.Logger;

/**
 * The shim's one {@code System.Logger}, created on first use: asking for a logger starts the app's logging
 * backend (its {@code LoggerFinder}), which must not happen at premain, before the app configured it.
 */
final class Log {
  private Log() {}

  static Logger get() {
    return Holder.LOGGER;
  }

  private static final class Holder {
    static final Logger LOGGER = System.getLogger("dev.armor.shim");
  }
}
