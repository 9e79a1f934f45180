package dev.armor.ftm;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.MemberChange;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Turns cluster membership into operations for the FTM ARMOR (its parent): a snapshot of the members when the FTM
 * starts (for reconciliation), then each member becoming unreachable, reachable again, or removed (downed by the
 * split brain resolver, or left). The FTM decides what a removal means; this actor only translates.
 */
final class MembershipWatcher extends AbstractBehavior<MembershipWatcher.Command> {

  sealed interface Command {}

  private record Snapshot(ClusterEvent.CurrentClusterState state) implements Command {}

  private record Membership(ClusterEvent.MemberEvent event) implements Command {}

  private record Reachability(ClusterEvent.ReachabilityEvent event) implements Command {}

  private final ActorRef<ArmorActor.Command> ftm;
  private final LongSupplier wallClock;

  static Behavior<Command> create(ActorRef<ArmorActor.Command> ftm, LongSupplier wallClock) {
    return Behaviors.setup(context -> new MembershipWatcher(context, ftm, wallClock));
  }

  private MembershipWatcher(ActorContext<Command> context, ActorRef<ArmorActor.Command> ftm, LongSupplier wallClock) {
    super(context);
    this.ftm = ftm;
    this.wallClock = wallClock;
    Cluster cluster = Cluster.get(context.getSystem());
    // Subscribe first, then read the state: a member removed before the read is missing from the snapshot, one
    // removed after it comes as an event, so nothing falls between them.
    cluster.subscriptions().tell(Subscribe.create(
        context.messageAdapter(ClusterEvent.MemberEvent.class, Membership::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(
        context.messageAdapter(ClusterEvent.ReachabilityEvent.class, Reachability::new), ClusterEvent.ReachabilityEvent.class));
    context.getSelf().tell(new Snapshot(cluster.state()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Snapshot.class, this::onSnapshot)
        .onMessage(Membership.class, this::onMembership)
        .onMessage(Reachability.class, this::onReachability)
        .build();
  }

  private Behavior<Command> onSnapshot(Snapshot snapshot) {
    MemberChange.Builder change = MemberChange.newBuilder().setKind(MemberChange.Kind.SNAPSHOT).setAtMillis(wallClock.getAsLong());
    for (Member member : snapshot.state().getMembers()) {
      if (present(member.status())) {
        change.addMembers(ClusterNodeConfig.hostPort(member.address()) + "#" + member.uniqueAddress().longUid());
      }
    }
    tell(change.build());
    return this;
  }

  private Behavior<Command> onMembership(Membership membership) {
    if (membership.event() instanceof ClusterEvent.MemberRemoved removed) {
      tell(change(MemberChange.Kind.REMOVED, removed.member()));
    } else if (membership.event() instanceof ClusterEvent.MemberDowned downed) {
      // Downed is the decision; removal follows. The FTM acts on removal, when the node can no longer come back.
      getContext().getLog().info("FTM: cluster member {} was downed", ClusterNodeConfig.hostPort(downed.member().address()));
    }
    return this;
  }

  private Behavior<Command> onReachability(Reachability reachability) {
    if (reachability.event() instanceof ClusterEvent.UnreachableMember unreachable) {
      tell(change(MemberChange.Kind.UNREACHABLE, unreachable.member()));
    } else if (reachability.event() instanceof ClusterEvent.ReachableMember reachable) {
      tell(change(MemberChange.Kind.REACHABLE, reachable.member()));
    }
    return this;
  }

  private MemberChange change(MemberChange.Kind kind, Member member) {
    return MemberChange.newBuilder().setKind(kind).setAddress(ClusterNodeConfig.hostPort(member.address()))
        .setUid(member.uniqueAddress().longUid()).setAtMillis(wallClock.getAsLong()).build();
  }

  private void tell(MemberChange change) {
    ftm.tell(new ArmorActor.Deliver(Armors.message(ArmorIds.FTM, ArmorIds.FTM, Ops.MEMBER_CHANGE, change), null));
  }

  /** Whether a member in this status still runs (a removed, downed or exiting member is gone). */
  static boolean present(MemberStatus status) {
    return status == MemberStatus.up() || status == MemberStatus.weaklyUp() || status == MemberStatus.joining()
        || status == MemberStatus.leaving();
  }
}
