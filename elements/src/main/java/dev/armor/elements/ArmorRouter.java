package dev.armor.elements;

import dev.armor.elements.wire.ArmorMessage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where an ARMOR sends a message addressed to another ARMOR id. In a daemon this is the gateway (local ARMORs,
 * the FTM singleton); in the FTM it is the daemon of the node where the target ARMOR lives.
 */
@FunctionalInterface
public interface ArmorRouter {

  /**
   * Routes {@code message} to the ARMOR named by its {@code to}; {@code replyTo} (may be null) receives the reply.
   * Returns false when no route is known, so the caller can fail the request with a clear error.
   */
  boolean route(ArmorMessage message, ActorRef<ArmorMessage> replyTo);
}
