package dev.armor.ftm;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRouter;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.DaemonRegistration;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * What the FTM knows of where things are: each node's daemon (registration and gateway) and the node each
 * ARMOR id lives on. It routes the FTM's messages: to a daemon by its ARMOR id, to an Execution ARMOR through
 * the daemon of its node. Used only on the FTM actor's thread.
 */
final class FtmDirectory implements ArmorRouter, AppServerDb.NodeDirectory {

  private final ActorRefResolver resolver;
  private final Map<String, DaemonRegistration> daemons = new TreeMap<>();
  private final Map<String, ActorRef<ArmorActor.Command>> gateways = new HashMap<>();
  private final Map<String, String> armorNodes = new HashMap<>();

  private final String selfAddress;

  /** @param selfAddress this node's member address, for a gateway on the FTM's own node (its reference is local) */
  FtmDirectory(ActorRefResolver resolver, String selfAddress) {
    this.resolver = resolver;
    this.selfAddress = selfAddress;
  }

  /** This node's member address: where the FTM itself runs. */
  String selfAddress() {
    return selfAddress;
  }

  private String addressOf(ActorRef<?> gateway) {
    org.apache.pekko.actor.Address address = gateway.path().address();
    return address.hasLocalScope() ? selfAddress : ClusterNodeConfig.hostPort(address);
  }

  void addDaemon(DaemonRegistration daemon) {
    daemons.put(daemon.getNode(), daemon);
    gateways.put(daemon.getNode(), resolver.resolveActorRef(daemon.getGatewayRef()));
  }

  /** Forgets a node's daemon (its member was removed); its ARMORs' placements stay until they are migrated. */
  void removeDaemon(String node) {
    daemons.remove(node);
    gateways.remove(node);
  }

  /**
   * The cluster member address ({@code host:port}) of a node's daemon: the address of its gateway's reference,
   * which is the daemon's own cluster endpoint.
   */
  Optional<String> memberAddress(String node) {
    ActorRef<ArmorActor.Command> gateway = gateways.get(node);
    return gateway == null ? Optional.empty() : Optional.of(addressOf(gateway));
  }

  /** The cluster member address ({@code host:port}) a registration comes from: its gateway's. */
  String memberAddressOf(DaemonRegistration daemon) {
    return addressOf(resolver.resolveActorRef(daemon.getGatewayRef()));
  }

  /** The node whose registered daemon is the member at {@code address}, if any. */
  Optional<String> nodeAt(String address) {
    return gateways.entrySet().stream()
        .filter(e -> addressOf(e.getValue()).equals(address))
        .map(Map.Entry::getKey)
        .findFirst();
  }

  Optional<DaemonRegistration> daemon(String node) {
    return Optional.ofNullable(daemons.get(node));
  }

  Map<String, DaemonRegistration> daemons() {
    return daemons;
  }

  void placeArmor(String armorId, String node) {
    armorNodes.put(armorId, node);
  }

  boolean knowsArmor(String armorId) {
    return armorNodes.containsKey(armorId);
  }

  @Override
  public Optional<InetSocketAddress> dataAddress(String node) {
    // Data hosts are IP literals, so this does no name lookup on the FTM's thread.
    return daemon(node).map(d -> new InetSocketAddress(d.getDataHost(), d.getDataPort()));
  }

  @Override
  public boolean route(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    String to = message.getTo();
    String node = ArmorIds.isDaemon(to) ? ArmorIds.nodeOfDaemon(to) : armorNodes.get(to);
    ActorRef<ArmorActor.Command> gateway = node == null ? null : gateways.get(node);
    if (gateway == null) {
      return false;
    }
    gateway.tell(new ArmorActor.Deliver(message, replyTo));
    return true;
  }
}
