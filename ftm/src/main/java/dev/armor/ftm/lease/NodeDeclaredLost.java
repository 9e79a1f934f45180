package dev.armor.ftm.lease;

import org.apache.pekko.actor.CoordinatedShutdown;

/**
 * Why a daemon stops when the cluster declared its node lost (a witness refused its lease): its work runs elsewhere,
 * so it must not go on; restarted, it rejoins empty. armor-cluster.conf maps it to exit status 1, so a service
 * manager restarts it.
 */
public enum NodeDeclaredLost implements CoordinatedShutdown.Reason {
  INSTANCE
}
