package dev.armor.elements.standard;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.armor.elements.ElementContext;
import dev.armor.elements.ReplyHandle;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The context of one operation, for testing an element without an actor: it records the payload the element
 * sets, the failure it reports and the messages it sends; time is what the test says. What an element of this
 * package has no business doing (asking, timers, forwarding) throws.
 */
final class FakeElementContext implements ElementContext {

  /** A one-way message the element sent. */
  record Sent(String to, String type, Message argument) {}

  private static final Logger LOG = LoggerFactory.getLogger(FakeElementContext.class);

  private final String armorId;
  private final long nowMillis;
  private Any payload = Any.getDefaultInstance();
  private String error;
  private String from = "";
  final List<Sent> sent = new ArrayList<>();

  FakeElementContext(String armorId, long nowMillis) {
    this.armorId = armorId;
    this.nowMillis = nowMillis;
  }

  /** The message's sender (its {@code from}): empty unless set. */
  FakeElementContext from(String sender) {
    this.from = sender;
    return this;
  }

  /** The payload as the element left it, unpacked. */
  <T extends Message> T payloadAs(Class<T> type) {
    try {
      return payload.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError("payload is not a " + type.getSimpleName() + ": " + payload, e);
    }
  }

  /** The error the element failed the message with, or null. */
  String error() {
    return error;
  }

  @Override
  public String armorId() {
    return armorId;
  }

  @Override
  public ArmorMessage message() {
    return ArmorMessage.newBuilder().setFrom(from).build();
  }

  @Override
  public Any payload() {
    return payload;
  }

  @Override
  public void setPayload(Message newPayload) {
    payload = Any.pack(newPayload);
  }

  @Override
  public void fail(String failure) {
    if (error == null) {
      error = failure;
    }
  }

  @Override
  public void send(String toArmorId, String type, Message argument) {
    sent.add(new Sent(toArmorId, type, argument));
  }

  @Override
  public long nanoTime() {
    return nowMillis * 1_000_000;
  }

  @Override
  public long currentTimeMillis() {
    return nowMillis;
  }

  @Override
  public Logger log() {
    return LOG;
  }

  @Override
  public void push(String type, Message argument) {
    throw new UnsupportedOperationException("push");
  }

  @Override
  public ReplyHandle deferReply() {
    throw new UnsupportedOperationException("deferReply");
  }

  @Override
  public void forward(String toArmorId) {
    throw new UnsupportedOperationException("forward");
  }

  @Override
  public void forward(String toArmorId, String type, Message argument) {
    throw new UnsupportedOperationException("forward");
  }

  @Override
  public CompletionStage<ArmorMessage> ask(String toArmorId, String type, Message argument, Duration timeout) {
    throw new UnsupportedOperationException("ask");
  }

  @Override
  public <T> void pipeToSelf(CompletionStage<T> stage, BiFunction<T, Throwable, Operation> toOperation) {
    throw new UnsupportedOperationException("pipeToSelf");
  }

  @Override
  public void scheduleToSelf(String key, Duration delay, String type, Message argument) {
    throw new UnsupportedOperationException("scheduleToSelf");
  }

  @Override
  public void cancelTimer(String key) {
    throw new UnsupportedOperationException("cancelTimer");
  }
}
