package dev.armor.elements;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Operation;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;

/** What an element may do while it handles an operation, and from its {@link Element#started} hook. */
public interface ElementContext {

  /** The hosting ARMOR's id. */
  String armorId();

  /** The message being processed (as it arrived; see {@link #payload()} for the current payload). */
  ArmorMessage message();

  /** The message's payload as rewritten so far by the elements before this one. */
  Any payload();

  /** Rewrites the message's payload; for a request, the payload when processing ends is the reply. */
  void setPayload(Message payload);

  /** Pushes an operation onto the current bundle: it is delivered after the operations already in it. */
  void push(String type, Message argument);

  /**
   * Takes over the reply to the current request: the ARMOR will not reply when processing ends, and the element
   * completes the handle later (typically from an operation it piped to itself).
   */
  ReplyHandle deferReply();

  /** Fails the current message: no further operation of it runs, and a waiting requester gets {@code error}. */
  void fail(String error);

  /** Sends a new message with one operation to another ARMOR, routed by id; no reply expected. */
  void send(String toArmorId, String type, Message argument);

  /**
   * Forwards the current message, as rewritten so far, to another ARMOR: its reply goes straight to the original
   * requester, and this ARMOR does not reply.
   */
  void forward(String toArmorId);

  /**
   * Forwards the current request as a new one-operation message to another ARMOR: its reply goes straight to the
   * original requester, and this ARMOR does not reply.
   */
  void forward(String toArmorId, String type, Message argument);

  /** Sends a request to another ARMOR; the stage completes with the reply (or fails with its error). */
  CompletionStage<ArmorMessage> ask(String toArmorId, String type, Message argument, Duration timeout);

  /** When {@code stage} completes, delivers an operation built from its outcome to this ARMOR. */
  <T> void pipeToSelf(CompletionStage<T> stage, java.util.function.BiFunction<T, Throwable, Operation> toOperation);

  /** Delivers {@code type(argument)} to this ARMOR after {@code delay}; a later timer with the same key replaces it. */
  void scheduleToSelf(String key, Duration delay, String type, Message argument);

  /** Cancels the timer with {@code key}, if any. */
  void cancelTimer(String key);

  /** The ARMOR's clock, in nanoseconds (monotonic) — injected, so tests drive time. */
  long nanoTime();

  /** The ARMOR's wall clock, in milliseconds since the epoch, for timestamps shown to operators. */
  long currentTimeMillis();

  Logger log();
}
