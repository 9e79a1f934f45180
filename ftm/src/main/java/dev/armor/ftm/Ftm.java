package dev.armor.ftm;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.ServiceEntry;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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

  private Ftm() {}

  /** Starts the singleton manager (on FTM-capable nodes) and returns the proxy every node talks to the FTM by. */
  public static ActorRef<ArmorActor.Command> init(ActorSystem<?> system) {
    return ClusterSingleton.get(system)
        .init(SingletonActor.of(create(), ArmorIds.FTM)
            .withSettings(ClusterSingletonSettings.create(system).withRole(ROLE)));
  }

  static Behavior<ArmorActor.Command> create() {
    return Behaviors.setup(
        context -> {
          ActorSystem<?> system = context.getSystem();
          ReplicatedTables tables = new ReplicatedTables(system);
          List<ServiceEntry> services = tables.loadServices(LOAD_TIMEOUT);
          List<DaemonRegistration> daemons = tables.loadDaemons(LOAD_TIMEOUT);
          FtmDirectory directory = new FtmDirectory(ActorRefResolver.get(system));
          daemons.forEach(directory::addDaemon);
          services.forEach(s -> directory.placeArmor(s.getArmorId(), s.getNode()));
          AppServerDb appServerDb = new AppServerDb(services, tables, directory);
          Cluster cluster = Cluster.get(system);
          String self = cluster.selfMember().address().host().getOrElse(() -> "?");
          context.getLog().info("FTM started on {} with {} service(s) and {} daemon(s) from the replicated tables",
              self, services.size(), daemons.size());
          FtmElement ftm = new FtmElement(directory, tables, appServerDb, host -> reachable(cluster, host), self);
          return ArmorActor.create(ArmorIds.FTM, List.of(appServerDb, ftm), directory, ArmorClock.SYSTEM);
        });
  }

  private static boolean reachable(Cluster cluster, String host) {
    for (Member member : cluster.state().getMembers()) {
      if (host.equals(member.address().host().getOrElse(() -> ""))) {
        return member.status() == MemberStatus.up() && !cluster.state().getUnreachable().contains(member);
      }
    }
    return false;
  }
}
