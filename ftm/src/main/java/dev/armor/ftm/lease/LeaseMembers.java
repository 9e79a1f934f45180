package dev.armor.ftm.lease;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/** The members whose witnesses count (see {@link Quorums}), and how to reach a member's witness. */
final class LeaseMembers {

  /** The witness's name on every node: a system actor, {@code /system/armor-lease-witness}. */
  static final String WITNESS_NAME = "armor-lease-witness";

  private LeaseMembers() {}

  /** The members that count now: up or leaving, reachable or not. */
  static List<Member> counted(ActorSystem<?> system) {
    List<Member> counted = new ArrayList<>();
    for (Member member : Cluster.get(system).state().getMembers()) {
      if (member.status() == MemberStatus.up() || member.status() == MemberStatus.leaving()) {
        counted.add(member);
      }
    }
    return counted;
  }

  /** The witness of the member at {@code address} (messages to a member that is gone are dropped). */
  static ActorRef<Object> witnessAt(ActorSystem<?> system, Address address) {
    return ActorRefResolver.get(system).resolveActorRef(address + "/system/" + WITNESS_NAME);
  }
}
