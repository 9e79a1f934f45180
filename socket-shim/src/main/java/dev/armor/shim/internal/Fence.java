package dev.armor.shim.internal;

/**
 * What a protected app's shim does when its daemon is gone: stop the process, so it cannot act as an orphan (its
 * daemon died: nobody relays its clients or will restart it) or keep serving while the cluster moves its work to
 * another node (its daemon is frozen). A seam so tests see the decision without halting their JVM.
 */
interface Fence {

  /** The exit status of a fenced process: distinctive, so logs and the Execution ARMOR can tell it apart. */
  int HALT_STATUS = 86;

  /** Stops this process; {@code why} says how the daemon was found gone. May return only in tests. */
  void stop(String why);

  /** How long writing the line may take before the process halts without it (stderr may be a full pipe). */
  long LINE_GRACE_MILLIS = 1000;

  /**
   * The real one: one line on stderr (not the app's logging, which may be what is stuck; stderr reaches the app's
   * log file), then {@link Runtime#halt}: no shutdown hooks, since the app's hooks could write or block, and a
   * fenced process must stop now. A watchdog halts it anyway if the line cannot be written in time.
   */
  static Fence halting(ShimConfig config) {
    return why -> {
      Thread watchdog = new Thread(() -> {
        try {
          Thread.sleep(LINE_GRACE_MILLIS);
        } catch (InterruptedException e) {
          // halt all the same
        }
        Runtime.getRuntime().halt(HALT_STATUS);
      }, "armor-shim-fence");
      watchdog.setDaemon(true);
      watchdog.start();
      System.err.println(message(config, why));
      System.err.flush();
      Runtime.getRuntime().halt(HALT_STATUS);
    };
  }

  static String message(ShimConfig config, String why) {
    return "armor shim: daemon of node " + (config.node().isEmpty() ? "(unnamed)" : config.node()) + " is gone ("
        + why + "); stopping this protected process so it cannot act as an orphan";
  }
}
