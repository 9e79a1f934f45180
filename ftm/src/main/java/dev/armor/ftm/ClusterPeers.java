package dev.armor.ftm;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * The node name each cluster member proved with its certificate, by member address ({@code host:port}), as this
 * node's cluster transport saw it when it connected to that member ({@link ClusterTransportTls}). Only outgoing
 * connections tell: they go to the member's own address, so the certificate shown there is that member's; an incoming
 * connection comes from an ephemeral port and says nothing of which member it is. The FTM reads it to take a daemon's
 * registration only under the name on that daemon's certificate.
 *
 * <p>Bounded by the cluster's members over the node's life (an entry per member address this node connected to, each
 * behind a TLS handshake with a certificate of the cluster's CA); a member's address shown a new certificate takes the
 * new name.
 */
public final class ClusterPeers implements Extension, FtmElement.MemberCertificates {

  private static final Id ID = new Id();
  /** More distinct member addresses than any cluster has: past it, the oldest are not kept apart from the new. */
  private static final int MAX_ADDRESSES = 10_000;

  private final ConcurrentHashMap<String, Proof> names = new ConcurrentHashMap<>();

  /** This actor system's instance. */
  public static ClusterPeers get(ActorSystem system) {
    return ID.get(system);
  }

  /** The member at {@code address} showed a certificate of node {@code node}. */
  void certified(String address, String node) {
    if (names.size() >= MAX_ADDRESSES && !names.containsKey(address)) {
      names.clear();
    }
    names.put(address, new Proof(node, System.currentTimeMillis()));
  }

  /** The node name the member at {@code address} proved, and when, if this node has connected to it. */
  @Override
  public Optional<Proof> nodeAt(String address) {
    return Optional.ofNullable(names.get(address));
  }

  private static final class Id extends AbstractExtensionId<ClusterPeers> {
    @Override
    public ClusterPeers createExtension(ExtendedActorSystem system) {
      return new ClusterPeers();
    }
  }
}
