package dev.armor.ftm.lease;

import dev.armor.elements.wire.LeaseAnswer;
import dev.armor.elements.wire.LeaseRenewal;
import dev.armor.elements.wire.LeaseSilenceQuery;
import dev.armor.elements.wire.LeaseSilences;
import dev.armor.elements.wire.LeaseVerdict;
import dev.armor.elements.wire.LeaseVote;
import dev.armor.ftm.ClusterNodeConfig;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's lease witness (one per node, FTM processes and daemons alike): grants node lease renewals, votes on
 * whether a node's lease has surely ended, and tells the FTM's voter which holders went silent. All the rules are in
 * {@link WitnessBook}; a removed member's holders are forgotten.
 *
 * <p>Its protocol is the wire messages {@link LeaseRenewal}, {@link LeaseVote} and {@link LeaseSilenceQuery}
 * (answers go to the {@code reply_to} they name) plus the cluster's removals.
 */
final class LeaseWitness {

  /** Named for the witness: the actor's own logger would be named after Pekko's ActorCell here. */
  private static final Logger LOG = LoggerFactory.getLogger(LeaseWitness.class);

  private LeaseWitness() {}

  /** The witness's own tick, by which it notices that it did not run for a while ({@link WitnessBook#ticked}). */
  private enum Tick { INSTANCE }

  static Behavior<Object> create(NodeLeaseSettings settings, LongSupplier nanoClock) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.renewEvery());
      Cluster cluster = Cluster.get(context.getSystem());
      long selfUid = cluster.selfMember().uniqueAddress().longUid();
      WitnessBook book = new WitnessBook(nanoClock.getAsLong(), settings.lease().toNanos(), settings.margin().toNanos());
      ActorRefResolver resolver = ActorRefResolver.get(context.getSystem());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
      return Behaviors.receive(Object.class)
          .onMessage(LeaseRenewal.class, renewal -> {
            WitnessBook.Holder holder = holder(renewal.getNode(), renewal.getAddress(), renewal.getUid());
            Optional<String> refusal = book.renew(holder, renewal.getLeaseMillis() * 1_000_000L, nanoClock.getAsLong());
            ActorRef<Object> replyTo = resolver.resolveActorRef(renewal.getReplyTo());
            replyTo.tell(LeaseAnswer.newBuilder().setRound(renewal.getRound()).setGranted(refusal.isEmpty())
                .setRefusal(refusal.orElse("")).setWitnessUid(selfUid).build());
            if (refusal.isPresent() && book.firstRefusal(holder)) {
              LOG.warn("lease witness: refused a renewal of node {} (member {}): {}", renewal.getNode(),
                  renewal.getAddress(), refusal.get());
            }
            return Behaviors.same();
          })
          .onMessage(LeaseVote.class, vote -> {
            WitnessBook.Verdict verdict =
                book.vote(holder(vote.getNode(), vote.getAddress(), vote.getUid()), nanoClock.getAsLong());
            ActorRef<Object> replyTo = resolver.resolveActorRef(vote.getReplyTo());
            replyTo.tell(LeaseVerdict.newBuilder().setVote(vote.getVote()).setLost(verdict.lost())
                .setSilentMillis(verdict.silentNanos() / 1_000_000).setWitnessUid(selfUid).build());
            return Behaviors.same();
          })
          .onMessage(LeaseSilenceQuery.class, query -> {
            LeaseSilences.Builder silences = LeaseSilences.newBuilder();
            for (WitnessBook.Holder holder : book.silent(nanoClock.getAsLong())) {
              silences.addSilent(LeaseVote.newBuilder().setNode(holder.node()).setAddress(holder.address())
                  .setUid(holder.uid()));
            }
            resolver.<Object>resolveActorRef(query.getReplyTo()).tell(silences.build());
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.MemberRemoved.class, removed -> {
            book.forget(ClusterNodeConfig.hostPort(removed.member().address()), removed.member().uniqueAddress().longUid());
            return Behaviors.same();
          })
          .onMessageEquals(Tick.INSTANCE, () -> {
            book.ticked(nanoClock.getAsLong(), settings.renewEvery().toNanos());
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static WitnessBook.Holder holder(String node, String address, long uid) {
    return new WitnessBook.Holder(node, address, uid);
  }
}
