package dev.armor.ftm;

import org.apache.pekko.actor.CoordinatedShutdown;

/**
 * Why a node (an FTM or a daemon) shuts its actor system down when it could not finish starting: the FTM refused its
 * registration, or never answered. armor-cluster.conf maps it to exit status 1 (a plain termination exits 0, which
 * would tell a caller that waits for the process, as {@code armor daemon --detach} does, that all went well).
 */
public enum NodeStartFailed implements CoordinatedShutdown.Reason {
  INSTANCE
}
