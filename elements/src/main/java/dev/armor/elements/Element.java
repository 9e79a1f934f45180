package dev.armor.elements;

import dev.armor.elements.wire.Operation;
import java.util.Set;

/**
 * One part of an ARMOR: it subscribes to operation types and handles each such operation of a message passing
 * through the ARMOR. Elements run on the ARMOR's actor thread, one operation at a time: they need no locks,
 * must not block, and bring outside events (process exits, futures) back through
 * {@link ElementContext#pipeToSelf}.
 */
public interface Element {

  /** The element's name in the domain's words, e.g. {@code APP_SERVER_DB}. */
  String name();

  /** The operation types this element is delivered. */
  Set<String> subscriptions();

  /** Handles one operation of the current bundle. A thrown exception fails the message (and its reply). */
  void handle(Operation operation, ElementContext context) throws Exception;

  /** Called once when the hosting ARMOR starts, before any message. */
  default void started(ElementContext context) {}

  /** Called once when the hosting ARMOR stops: release what the element holds. */
  default void stopped() {}
}
