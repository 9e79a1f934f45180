package dev.armor.ftm.lease;

import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;

/** Starts a node's part in node leases (the settings come from the node's configuration, {@code armor.node-lease}). */
public final class NodeLeases {

  private NodeLeases() {}

  /**
   * Pekko's internal dispatcher, where the cluster's own heartbeats run: renewals and votes are a few small messages
   * a second, and must not wait behind the daemon's own work on a busy host.
   */
  private static final Props PROPS = DispatcherSelector.fromConfig("pekko.actor.internal-dispatcher");

  /** Every node (FTM process or daemon) runs a witness, when node leases are on. */
  public static void startWitness(ActorSystem<?> system) {
    NodeLeaseSettings settings = NodeLeaseSettings.from(system.settings().config());
    if (settings.enabled()) {
      system.systemActorOf(LeaseWitness.create(settings, System::nanoTime), LeaseMembers.WITNESS_NAME, PROPS);
    }
  }

  /**
   * Every FTM-capable member runs the successor's voter (see {@link LeaseVoter}): when the FTM's own node loses its
   * lease, the next FTM need not wait for the split brain resolver.
   */
  public static void startSuccessor(ActorSystem<?> system) {
    NodeLeaseSettings settings = NodeLeaseSettings.from(system.settings().config());
    if (settings.enabled()) {
      org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LeaseVoter.class);
      system.systemActorOf(LeaseVoter.successor(settings, System::nanoTime, ended -> log.info(
          "FTM successor: node {} (member {}) declared lost while the FTM's node was silent: {}; the FTM that starts "
              + "next moves its work", ended.node(), ended.address(), ended.detail())),
          "armor-ftm-successor", PROPS);
    }
  }

  /**
   * A node holds its lease (every daemon, and every FTM process, whose silence the successor's voter must see):
   * returns what its apps are told ({@link NodeLease#OFF} when node leases are off). {@code declaredLost} runs once if
   * the cluster declares the node lost (with the witness's words).
   */
  public static NodeLease startHolder(ActorSystem<?> system, String node, Consumer<String> declaredLost) {
    NodeLeaseSettings settings = NodeLeaseSettings.from(system.settings().config());
    if (!settings.enabled()) {
      return NodeLease.OFF;
    }
    NodeLease lease = new NodeLease(System::nanoTime);
    system.systemActorOf(LeaseHolder.create(node, settings, lease, System::nanoTime, declaredLost),
        "armor-lease-holder", PROPS);
    return lease;
  }
}
