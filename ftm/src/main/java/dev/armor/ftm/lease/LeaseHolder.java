package dev.armor.ftm.lease;

import dev.armor.elements.wire.LeaseAnswer;
import dev.armor.elements.wire.LeaseRenewal;
import dev.armor.ftm.ClusterNodeConfig;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;

/**
 * A daemon's side of its node's lease: every {@link NodeLeaseSettings#renewEvery()} it asks every counted member's
 * witness to renew, keeps the lease in a {@link HeldLease} and publishes its end to the {@link NodeLease} its apps'
 * shims are told. It logs when the lease is first held, runs out (its apps stop) and is held again; when a witness
 * refuses because the node was declared lost, the lease is over for good and {@code declaredLost} is called (the
 * daemon stops: its work runs elsewhere and it must rejoin empty).
 */
final class LeaseHolder {

  sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Answer(LeaseAnswer answer) implements Command {}

  private LeaseHolder() {}

  static Behavior<Command> create(String node, NodeLeaseSettings settings, NodeLease published, LongSupplier nanoClock,
      Consumer<String> declaredLost) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      ActorSystem<?> system = context.getSystem();
      Member self = Cluster.get(system).selfMember();
      String address = ClusterNodeConfig.hostPort(self.address());
      long uid = self.uniqueAddress().longUid();
      ActorRef<Object> answers = context.messageAdapter(LeaseAnswer.class, Answer::new).unsafeUpcast();
      String replyTo = ActorRefResolver.get(system).toSerializationFormat(answers);
      HeldLease lease = new HeldLease(settings.lease().toNanos());
      Logger log = context.getLog();
      // Fixed delay, not rate: after a pause of this JVM, one renewal, not a burst of the ticks it missed.
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.renewEvery());
      context.getSelf().tell(Tick.INSTANCE);
      boolean[] logged = {false, false}; // held once, ran out (since last held)
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            long now = nanoClock.getAsLong();
            if (lease.lost().isPresent()) {
              return Behaviors.same();
            }
            if (lease.endNanos() != HeldLease.NEVER && !lease.held(now) && !logged[1]) {
              logged[1] = true;
              log.warn("node {}: its node lease ran out {} ms ago (no quorum of the cluster's members renewed it "
                  + "within {} ms); its protected apps stop when it ends, as they run only while the node holds it",
                  node, (now - lease.endNanos()) / 1_000_000, settings.lease().toMillis());
            }
            List<Member> members = LeaseMembers.counted(system);
            long round = lease.startRound(Math.max(members.size(), 1), now);
            LeaseRenewal renewal = LeaseRenewal.newBuilder().setNode(node).setAddress(address).setUid(uid)
                .setRound(round).setLeaseMillis(settings.lease().toMillis()).setReplyTo(replyTo).build();
            for (Member member : members) {
              LeaseMembers.witnessAt(system, member.address()).tell(renewal);
            }
            if (members.stream().noneMatch(m -> m.uniqueAddress().equals(self.uniqueAddress()))) {
              // Not up yet (joining): its own witness still counts for it.
              LeaseMembers.witnessAt(system, self.address()).tell(renewal);
            }
            return Behaviors.same();
          })
          .onMessage(Answer.class, answer -> {
            LeaseAnswer a = answer.answer();
            long now = nanoClock.getAsLong();
            if (!a.getGranted()) {
              if (lease.refused(a.getRound(), a.getWitnessUid(), a.getRefusal(), now)) {
                published.publish(lease.endNanos());
                String why = lease.lost().orElseThrow();
                log.error("node {}: the cluster declared this node lost: {}; its apps stopped when its lease ended; "
                    + "stopping this daemon so that it rejoins empty", node, why);
                declaredLost.accept(why);
              }
              return Behaviors.same();
            }
            boolean wasHeld = lease.held(now);
            long previousEnd = lease.endNanos();
            if (lease.granted(a.getRound(), a.getWitnessUid())) {
              published.publish(lease.endNanos());
              if (!logged[0]) {
                logged[0] = true;
                log.info("node {}: node lease held ({} ms, renewed every {} ms by a quorum of the cluster's members)",
                    node, settings.lease().toMillis(), settings.renewEvery().toMillis());
              } else if (!wasHeld) {
                log.warn("node {}: node lease held again after {} ms without one", node,
                    Duration.ofNanos(now - previousEnd).toMillis());
              }
              if (!wasHeld) {
                logged[1] = false;
              }
            }
            return Behaviors.same();
          })
          .build();
    }));
  }
}
