package dev.armor.elements;

import com.google.protobuf.Message;
import com.google.protobuf.StringValue;
import dev.armor.elements.wire.Operation;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/** An element for tests: a name, the types it subscribes to, and what it does with each operation. */
final class TestElement implements Element {

  @FunctionalInterface
  interface Handler {
    void handle(Operation operation, ElementContext context) throws Exception;
  }

  private final String name;
  private final Set<String> subscriptions;
  private final Handler handler;

  private TestElement(String name, Set<String> subscriptions, Handler handler) {
    this.name = name;
    this.subscriptions = subscriptions;
    this.handler = handler;
  }

  static TestElement of(String name, Handler handler, String... types) {
    return new TestElement(name, Set.of(types), handler);
  }

  /** An element that reports {@code name:type} to {@code log} for each operation it is delivered. */
  static TestElement recording(String name, ActorRef<String> log, String... types) {
    return of(name, (operation, context) -> log.tell(name + ":" + operation.getType()), types);
  }

  /** The string carried by a payload or argument built with {@link #text}. */
  static String text(com.google.protobuf.Any any) {
    return Ops.unpack(any, StringValue.class).getValue();
  }

  static Message text(String value) {
    return StringValue.of(value);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Set<String> subscriptions() {
    return subscriptions;
  }

  @Override
  public void handle(Operation operation, ElementContext context) throws Exception {
    handler.handle(operation, context);
  }
}
