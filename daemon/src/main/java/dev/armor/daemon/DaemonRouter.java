package dev.armor.daemon;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRouter;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Bundle;
import dev.armor.elements.wire.Operation;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.ftm.FtmChannelServer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon as gateway: a message for the FTM goes to the singleton proxy (wherever the FTM runs now), one for
 * an ARMOR installed on this node goes to its actor. A request the FTM channel carries (a service registration or
 * unregistration) goes over the channel while it is open, and through the proxy otherwise, or when the channel
 * closed before the FTM answered. The FTM then sees it twice at most: a registration repeated by the same ARMOR is
 * taken as a recovery, which changes nothing for its clients; an unregistration repeated finds nothing to remove
 * and is refused (no registration of that address comes between the two: APP_COMM_SERVER holds those until the
 * unregistration is answered). Not sent again if the asker has given up on it by then: a channel to a node that
 * was cut off may take minutes to close, and a registration sent after its app's bind failed would register a
 * listener that is gone. Called from several ARMORs' threads, hence the concurrent map.
 *
 * <p>Every Execution ARMOR of this node reports its app's fate to the FTM through here, so the gateway is also
 * where the daemon learns that an ARMOR will not run its app again (STOPPED, GAVE_UP): {@code armorEnded} is told,
 * and the relay closes that client ARMOR's listeners.
 */
final class DaemonRouter implements ArmorRouter {

  private static final Logger log = LoggerFactory.getLogger(DaemonRouter.class);

  private final ActorRef<ArmorActor.Command> ftm;
  private final FtmChannel channel;
  private final long resendWithinNanos;
  private final Map<String, ActorRef<ArmorActor.Command>> local = new ConcurrentHashMap<>();
  /** Operation types an FTM's channel refused, each logged once. */
  private final java.util.Set<String> refusedTypes = ConcurrentHashMap.newKeySet();
  private final BiConsumer<String, String> armorEnded;

  /** As {@link #DaemonRouter(ActorRef, FtmChannel, java.time.Duration, BiConsumer)}, noting no ARMOR's end. */
  DaemonRouter(ActorRef<ArmorActor.Command> ftm, FtmChannel channel, java.time.Duration resendWithin) {
    this(ftm, channel, resendWithin, (armorId, why) -> {});
  }

  /**
   * @param resendWithin how long an asker waits for the FTM: a request the channel lost later is not sent again
   * @param armorEnded told (ARMOR id, why) when a local Execution ARMOR reports that its app will not run again
   */
  DaemonRouter(ActorRef<ArmorActor.Command> ftm, FtmChannel channel, java.time.Duration resendWithin,
      BiConsumer<String, String> armorEnded) {
    this.ftm = ftm;
    this.channel = channel;
    this.resendWithinNanos = resendWithin.toNanos();
    this.armorEnded = armorEnded;
  }

  void install(String armorId, ActorRef<ArmorActor.Command> armor) {
    local.put(armorId, armor);
  }

  Map<String, ActorRef<ArmorActor.Command>> localArmors() {
    return local;
  }

  @Override
  public boolean route(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    if (ArmorIds.FTM.equals(message.getTo())) {
      noteEnds(message);
    }
    if (replyTo != null && FtmChannelServer.carries(message)) {
      long sentAt = System.nanoTime();
      if (channel.request(message, reply -> answered(message, reply, replyTo),
          unanswered -> throughCluster(message, replyTo, sentAt, unanswered))) {
        return true;
      }
    }
    ActorRef<ArmorActor.Command> target =
        ArmorIds.FTM.equals(message.getTo()) ? ftm : local.get(message.getTo());
    if (target == null) {
      return false;
    }
    target.tell(new ArmorActor.Deliver(message, replyTo));
    return true;
  }

  private void noteEnds(ArmorMessage message) {
    for (Bundle bundle : message.getBundlesList()) {
      for (Operation operation : bundle.getOperationsList()) {
        if (!operation.getType().equals(Ops.PROCESS_EVENT)) {
          continue;
        }
        ProcessEvent event;
        try {
          event = Ops.argument(operation, ProcessEvent.class);
        } catch (Ops.MalformedMessageException e) {
          continue; // routed on all the same: the FTM refuses it with the reason
        }
        if (event.getKind() == ProcessEventKind.STOPPED || event.getKind() == ProcessEventKind.GAVE_UP) {
          armorEnded.accept(event.getArmorId(), "its Execution ARMOR " + (event.getKind() == ProcessEventKind.STOPPED
              ? "stopped" : "gave up") + (event.getDetail().isEmpty() ? "" : ": " + event.getDetail()));
        }
      }
    }
  }

  /** The FTM's answer over the channel; a refusal by an FTM of an earlier version sends the request through the cluster. */
  private void answered(ArmorMessage message, ArmorMessage reply, ActorRef<ArmorMessage> replyTo) {
    if (!FtmChannelServer.notCarried(reply)) {
      replyTo.tell(reply);
      return;
    }
    String type = message.getBundles(0).getOperations(0).getType();
    if (refusedTypes.add(type)) {
      log.info("the FTM's channel does not take {} (an FTM of an earlier version); sending it through the cluster", type);
    }
    ftm.tell(new ArmorActor.Deliver(message, replyTo));
  }

  private void throughCluster(ArmorMessage message, ActorRef<ArmorMessage> replyTo, long sentAt, String unanswered) {
    String type = message.getBundles(0).getOperations(0).getType();
    long millis = (System.nanoTime() - sentAt) / 1_000_000;
    if (System.nanoTime() - sentAt > resendWithinNanos) {
      log.warn("the FTM channel closed {} ms after {} went out, unanswered ({}); its asker has given up, so it is not "
          + "sent again", millis, type, unanswered);
      return;
    }
    log.info("the FTM channel closed before the FTM answered {} ({}); asking again through the cluster", type, unanswered);
    ftm.tell(new ArmorActor.Deliver(message, replyTo));
  }
}
