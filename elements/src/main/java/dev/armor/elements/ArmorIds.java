package dev.armor.elements;

/** ARMOR ids in one place: how the FTM, daemons and Execution ARMORs are named. */
public final class ArmorIds {

  private ArmorIds() {}

  /** The FTM's ARMOR id: there is one FTM at a time (a cluster singleton), wherever it runs. */
  public static final String FTM = "ftm";

  private static final String DAEMON_PREFIX = "daemon@";

  public static String daemon(String node) {
    return DAEMON_PREFIX + node;
  }

  public static boolean isDaemon(String armorId) {
    return armorId.startsWith(DAEMON_PREFIX);
  }

  public static String nodeOfDaemon(String armorId) {
    if (!isDaemon(armorId)) {
      throw new IllegalArgumentException("not a daemon ARMOR id: " + armorId);
    }
    return armorId.substring(DAEMON_PREFIX.length());
  }

  /** Execution ARMOR ids: {@code exec-<node>-<suffix>}; the FTM picks a suffix unique in the cluster. */
  public static String execution(String node, String suffix) {
    return "exec-" + node + "-" + suffix;
  }
}
