package dev.armor.daemon;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRouter;
import dev.armor.elements.wire.ArmorMessage;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The daemon as gateway: a message for the FTM goes to the singleton proxy (wherever the FTM runs now), one for
 * an ARMOR installed on this node goes to its actor. Called from several ARMORs' threads, hence the concurrent
 * map.
 */
final class DaemonRouter implements ArmorRouter {

  private final ActorRef<ArmorActor.Command> ftm;
  private final Map<String, ActorRef<ArmorActor.Command>> local = new ConcurrentHashMap<>();

  DaemonRouter(ActorRef<ArmorActor.Command> ftm) {
    this.ftm = ftm;
  }

  void install(String armorId, ActorRef<ArmorActor.Command> armor) {
    local.put(armorId, armor);
  }

  Map<String, ActorRef<ArmorActor.Command>> localArmors() {
    return local;
  }

  @Override
  public boolean route(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    ActorRef<ArmorActor.Command> target =
        ArmorIds.FTM.equals(message.getTo()) ? ftm : local.get(message.getTo());
    if (target == null) {
      return false;
    }
    target.tell(new ArmorActor.Deliver(message, replyTo));
    return true;
  }
}
