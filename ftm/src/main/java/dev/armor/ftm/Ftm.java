package dev.armor.ftm;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.ClusterMember;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.MemberChange;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.ftm.lease.LeaseVoter;
import dev.armor.ftm.lease.NodeLeases;
import dev.armor.ftm.lease.NodeLeaseSettings;
import dev.armor.security.TableSeal;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The FTM ARMOR, run as a cluster singleton on the nodes with the {@code ftm} role: APP_SERVER_DB and the FTM
 * element. When it starts (first time or after moving to another node) it reads the replicated tables first,
 * so no registration is forgotten.
 */
public final class Ftm {

  public static final String ROLE = "ftm";
  private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(3);
  /** The configuration key of the FTM's heartbeat interval to the daemons (armor-cluster.conf has the default). */
  public static final String HEARTBEAT_INTERVAL = "armor.ftm.heartbeat-interval";
  /** The configuration key of this node's FTM channel address (host:port, empty for none); see FtmChannelServer. */
  public static final String CHANNEL = "armor.ftm.channel";

  private Ftm() {}

  /**
   * Starts the singleton manager (on FTM-capable nodes) and returns the proxy every node talks to the FTM by. {@code
   * seal}: the cluster's tables key, which FTM-capable nodes must hold (the FTM opens its replicated rows with it);
   * empty on the others, which never host the FTM.
   */
  public static ActorRef<ArmorActor.Command> init(ActorSystem<?> system, java.util.Optional<TableSeal> seal) {
    boolean capable = Cluster.get(system).selfMember().hasRole(ROLE);
    if (capable && seal.isEmpty()) {
      throw new IllegalArgumentException("a node that may host the FTM needs the cluster's tables key");
    }
    if (capable) {
      NodeLeases.startSuccessor(system);
    }
    return ClusterSingleton.get(system)
        .init(SingletonActor.of(capable ? create(seal.get()) : Behaviors.<ArmorActor.Command>empty(), ArmorIds.FTM)
            .withSettings(ClusterSingletonSettings.create(system).withRole(ROLE)));
  }

  static Behavior<ArmorActor.Command> create(TableSeal seal) {
    return Behaviors.setup(
        context -> {
          ActorSystem<?> system = context.getSystem();
          ReplicatedTables tables = new ReplicatedTables(system, seal);
          List<ServiceEntry> services = tables.loadServices(LOAD_TIMEOUT);
          List<DaemonRegistration> daemons = tables.loadDaemons(LOAD_TIMEOUT);
          List<ExecutionArmorRow> executions = tables.loadExecutions(LOAD_TIMEOUT);
          Cluster cluster = Cluster.get(system);
          String self = cluster.selfMember().address().host().getOrElse(() -> "?");
          FtmDirectory directory =
              new FtmDirectory(ActorRefResolver.get(system), ClusterNodeConfig.hostPort(cluster.selfMember().address()));
          daemons.forEach(directory::addDaemon);
          executions.forEach(row -> directory.placeArmor(row.getArmorId(), row.getNode()));
          services.forEach(s -> directory.placeArmor(s.getArmorId(), s.getNode()));
          AppServerDb appServerDb = new AppServerDb(services, tables, directory);
          context.getLog().info("FTM started on {} with {} service(s), {} daemon(s) and {} Execution ARMOR row(s) from "
              + "the replicated tables; FTM channel {}", self, services.size(), daemons.size(), executions.size(),
              system.settings().config().getString(CHANNEL).isEmpty() ? "none" : system.settings().config().getString(CHANNEL));
          Duration heartbeatInterval = system.settings().config().getDuration(HEARTBEAT_INTERVAL);
          String channel = system.settings().config().getString(CHANNEL);
          // Without TLS (tests that run a bare cluster) no member proves a name: registrations are taken as they come.
          boolean tls = system.settings().config().getString("pekko.remote.artery.transport").equals("tls-tcp");
          ClusterPeers peers = ClusterPeers.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system));
          FtmElement ftm = new FtmElement(directory, tables, appServerDb, executions,
              new ClusterMembership(cluster), self, heartbeatInterval, channel,
              tls ? peers : FtmElement.MemberCertificates.UNCHECKED);
          // Membership events become operations of this ARMOR; the first is a snapshot, for reconciliation.
          context.spawn(MembershipWatcher.create(context.getSelf(), System::currentTimeMillis), "membership");
          // A node whose lease a majority declared ended is lost too, seconds before the cluster downs it.
          ActorRef<ArmorActor.Command> ftmRef = context.getSelf();
          context.spawn(LeaseVoter.create(NodeLeaseSettings.from(system.settings().config()), System::nanoTime,
              ended -> ftmRef.tell(new ArmorActor.Deliver(Armors.message(ArmorIds.FTM, ArmorIds.FTM, Ops.MEMBER_CHANGE,
                  MemberChange.newBuilder().setKind(MemberChange.Kind.LEASE_ENDED).setAddress(ended.address())
                      .setUid(ended.uid()).setAtMillis(System.currentTimeMillis()).setDetail(ended.detail()).build()),
                  null))), "lease-voter");
          return ArmorActor.create(ArmorIds.FTM, List.of(appServerDb, ftm), directory, ArmorClock.SYSTEM);
        });
  }

  /** The FTM's view of the cluster's members, from this node's cluster state. */
  private record ClusterMembership(Cluster cluster) implements FtmElement.Membership {

    @Override
    public boolean live(String address) {
      for (Member member : cluster.state().getMembers()) {
        if (address.equals(ClusterNodeConfig.hostPort(member.address()))) {
          return member.status() == MemberStatus.up() && !cluster.state().getUnreachable().contains(member);
        }
      }
      return false;
    }

    @Override
    public List<ClusterMember> members() {
      CurrentClusterState state = cluster.state();
      List<ClusterMember> members = new java.util.ArrayList<>();
      for (Member member : state.getMembers()) {
        ClusterMember.Builder m = ClusterMember.newBuilder().setAddress(ClusterNodeConfig.hostPort(member.address()))
            .setStatus(status(member.status())).setReachable(!state.getUnreachable().contains(member));
        member.getRoles().stream().filter(role -> !role.startsWith("dc-")).sorted().forEach(m::addRoles);
        members.add(m.build());
      }
      return members;
    }

    /** Pekko's convergence: every member saw the latest gossip, none is unreachable. */
    @Override
    public boolean converged() {
      CurrentClusterState state = cluster.state();
      if (!state.getUnreachable().isEmpty()) {
        return false;
      }
      for (Member member : state.getMembers()) {
        if (!state.getSeenBy().contains(member.address())) {
          return false;
        }
      }
      return true;
    }

    private static String status(MemberStatus status) {
      return status.toString().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
  }
}
