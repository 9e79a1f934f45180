package dev.armor.ftm.lease;

import dev.armor.elements.wire.LeaseSilenceQuery;
import dev.armor.elements.wire.LeaseSilences;
import dev.armor.elements.wire.LeaseVerdict;
import dev.armor.elements.wire.LeaseVote;
import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.ftm.Ftm;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Declares nodes lost whose lease ended: every renewal interval it asks its own node's witness which holders went
 * silent for their lease plus the margin, and puts each to a vote of every counted member's witness. A vote that a
 * majority answers "lost" downs the member in the cluster and ends with {@code lost}; a vote without one is held again
 * on a later round (its witnesses that said lost refuse the node from then on, so a node cut off from most of the
 * cluster cannot win it back).
 *
 * <p>Two run: the FTM's (a child of the FTM singleton, so one in the cluster), which votes on every silent node and
 * moves its work; and the <em>successor's</em> on every other FTM-capable member, which votes only when the FTM's own
 * node (the oldest FTM-capable member, where the singleton runs) is among the silent (or was downed and awaits its
 * removal), and then on every silent node: the FTM's voter went with its node, and the cluster hands the singleton
 * over only once the FTM's member is removed, which needs every unreachable member downed. Without it the FTM's loss waited for the split brain resolver's
 * stable-after, the removal and the singleton's removal margin (18-20 s); with it, the lease plus the margin and a
 * removal (docs/ARCHITECTURE.md, "Node leases", "The FTM's own node").
 */
public final class LeaseVoter {

  /** What the FTM is told: the node's member (address, uid) lost its lease, and how that was decided. */
  public record LeaseEnded(String node, String address, long uid, String detail) {}

  sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Silences(LeaseSilences silences) implements Command {}

  private record Verdict(LeaseVerdict verdict) implements Command {}

  private static final class Ballot {
    final LeaseVote vote;
    final long startedNanos;
    final int needed;
    final int members;
    final Set<Long> lost = new HashSet<>();
    long longestSilenceMillis;

    Ballot(LeaseVote vote, long startedNanos, int needed, int members) {
      this.vote = vote;
      this.startedNanos = startedNanos;
      this.needed = needed;
      this.members = members;
    }
  }

  private LeaseVoter() {}

  /**
   * The node is lost for good (its lease ended, it can never renew): the cluster's membership is told at once, rather
   * than after its own detection and the split brain resolver's stable-after. Besides tidiness (majority writes stop
   * waiting for it, status shows it gone) this keeps the resolver sane when a second node fails within its window: a
   * member that saw the first unreachable and then died itself made the resolver see "indirectly connected" members
   * and down the whole cluster (fault suite, ftm-crash-in-recovery, before this).
   */
  private static void downInTheCluster(String who, ActorSystem<?> system, LeaseVote vote, org.slf4j.Logger log) {
    Cluster cluster = Cluster.get(system);
    for (Member member : cluster.state().getMembers()) {
      if (member.uniqueAddress().longUid() == vote.getUid()
          && ClusterNodeConfig.hostPort(member.address()).equals(vote.getAddress())) {
        log.info("{}: downing cluster member {} (node {}): its node lease ended", who, vote.getAddress(),
            vote.getNode());
        cluster.manager().tell(new org.apache.pekko.cluster.typed.Down(member.address()));
      }
    }
  }

  /** One holder (a member incarnation) of the votes about it. */
  private static String holderKey(LeaseVote vote) {
    return vote.getAddress() + "#" + vote.getUid();
  }

  /** Which of the silent holders a voter puts to a vote. */
  private interface Choice {
    List<LeaseVote> of(List<LeaseVote> silent, ActorSystem<?> system);
  }

  /** The FTM's voter (every silent node), or a behavior that does nothing when node leases are off. */
  public static Behavior<?> create(NodeLeaseSettings settings, LongSupplier nanoClock, Consumer<LeaseEnded> lost) {
    return settings.enabled()
        ? running("FTM", settings, nanoClock, (silent, system) -> silent, lost)
        : Behaviors.<Command>empty();
  }

  /**
   * The successor's voter, for every FTM-capable member: it votes only while the FTM's node is silent or downed and
   * not yet removed (see above);
   * {@code lost} is told what it decided (the FTM that starts next moves the work: the members are gone).
   */
  static Behavior<?> successor(NodeLeaseSettings settings, LongSupplier nanoClock, Consumer<LeaseEnded> lost) {
    return settings.enabled()
        ? running("FTM successor", settings, nanoClock, LeaseVoter::whileTheFtmsNodeIsSilent, lost)
        : Behaviors.<Command>empty();
  }

  /**
   * Every silent holder if the FTM's node (the oldest FTM-capable member, not this one) is among them or was downed and
   * is not removed yet (its removal waits until every unreachable member is downed: the holders that fell silent a
   * round later, as the other nodes cut off with it, must be voted on too); else none.
   */
  private static List<LeaseVote> whileTheFtmsNodeIsSilent(List<LeaseVote> silent, ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    Member ftmHost = null;
    for (Member member : cluster.state().getMembers()) {
      if (member.hasRole(Ftm.ROLE) && member.status() != MemberStatus.joining()
          && member.status() != MemberStatus.weaklyUp() && (ftmHost == null || member.isOlderThan(ftmHost))) {
        ftmHost = member;
      }
    }
    if (ftmHost == null || ftmHost.uniqueAddress().equals(cluster.selfMember().uniqueAddress())) {
      return List.of(); // the FTM runs here: its own voter does the work
    }
    if (ftmHost.status() == MemberStatus.down()) {
      return silent;
    }
    String address = ClusterNodeConfig.hostPort(ftmHost.address());
    long uid = ftmHost.uniqueAddress().longUid();
    boolean ftmSilent = silent.stream().anyMatch(v -> v.getUid() == uid && v.getAddress().equals(address));
    return ftmSilent ? silent : List.of();
  }

  private static Behavior<Command> running(String who, NodeLeaseSettings settings, LongSupplier nanoClock,
      Choice choice, Consumer<LeaseEnded> lost) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      ActorSystem<?> system = context.getSystem();
      ActorRefResolver resolver = ActorRefResolver.get(system);
      String silencesTo = resolver.toSerializationFormat(
          context.messageAdapter(LeaseSilences.class, Silences::new));
      String verdictsTo = resolver.toSerializationFormat(context.messageAdapter(LeaseVerdict.class, Verdict::new));
      ActorRef<Object> ownWitness = LeaseMembers.witnessAt(system, Cluster.get(system).selfMember().address());
      Map<Long, Ballot> ballots = new HashMap<>();
      Set<String> decided = new LinkedHashSet<>();
      long[] nextVote = {1};
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.renewEvery());
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            long now = nanoClock.getAsLong();
            // A ballot that got no majority within a lease is dropped; the next round holds a new one if still silent.
            ballots.values().removeIf(b -> now - b.startedNanos > settings.lease().toNanos());
            ownWitness.tell(LeaseSilenceQuery.newBuilder().setReplyTo(silencesTo).build());
            return Behaviors.same();
          })
          .onMessage(Silences.class, silences -> {
            List<Member> members = LeaseMembers.counted(system);
            int needed = Quorums.toDeclareLost(members.size());
            if (needed == 0) {
              return Behaviors.same(); // two members: only the cluster's downing can decide
            }
            for (LeaseVote silent : choice.of(silences.silences().getSilentList(), system)) {
              String key = holderKey(silent);
              if (decided.contains(key) || ballots.values().stream().anyMatch(b -> key.equals(holderKey(b.vote)))) {
                continue;
              }
              LeaseVote vote = silent.toBuilder().setVote(nextVote[0]++).setReplyTo(verdictsTo).build();
              ballots.put(vote.getVote(), new Ballot(vote, nanoClock.getAsLong(), needed, members.size()));
              context.getLog().info("{}: node {} (member {}) has not renewed its node lease for its lease plus "
                  + "{} ms; asking the {} members whether it is lost", who, silent.getNode(), silent.getAddress(),
                  settings.margin().toMillis(), members.size());
              for (Member member : members) {
                LeaseMembers.witnessAt(system, member.address()).tell(vote);
              }
            }
            return Behaviors.same();
          })
          .onMessage(Verdict.class, verdict -> {
            LeaseVerdict v = verdict.verdict();
            Ballot ballot = ballots.get(v.getVote());
            if (ballot == null || !v.getLost()) {
              return Behaviors.same();
            }
            ballot.lost.add(v.getWitnessUid());
            ballot.longestSilenceMillis = Math.max(ballot.longestSilenceMillis, v.getSilentMillis());
            if (ballot.lost.size() >= ballot.needed) {
              ballots.remove(v.getVote());
              LeaseVote vote = ballot.vote;
              decided.add(holderKey(vote));
              if (decided.size() > 4096) {
                decided.remove(decided.iterator().next());
              }
              downInTheCluster(who, system, vote, context.getLog());
              lost.accept(new LeaseEnded(vote.getNode(), vote.getAddress(), vote.getUid(),
                  "its node lease ended: " + ballot.lost.size() + " of " + ballot.members + " members granted it "
                      + "nothing for at least its lease plus " + settings.margin().toMillis() + " ms (up to "
                      + ballot.longestSilenceMillis + " ms), decided " + (nanoClock.getAsLong() - ballot.startedNanos)
                      / 1_000_000 + " ms after the vote began"));
            }
            return Behaviors.same();
          })
          .build();
    }));
  }
}
