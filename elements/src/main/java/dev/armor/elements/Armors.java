package dev.armor.elements;

import com.google.protobuf.Message;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Bundle;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** Helpers for code outside any ARMOR (gRPC handlers, the shim endpoint) that talks to one. */
public final class Armors {

  private static final AtomicLong CORRELATION = new AtomicLong();

  private Armors() {}

  /** One-operation message from {@code from} to {@code to}. */
  public static ArmorMessage message(String from, String to, String type, Message argument) {
    return ArmorMessage.newBuilder()
        .setFrom(from)
        .setTo(to)
        .setCorrelationId(CORRELATION.incrementAndGet())
        .addBundles(Bundle.newBuilder().addOperations(Ops.of(type, argument)))
        .build();
  }

  /**
   * Sends {@code message} through {@code armor} (which routes it if it is addressed elsewhere) and completes with
   * the reply, failing with {@link ArmorRequestException} when the reply carries an error.
   */
  public static CompletionStage<ArmorMessage> request(
      ActorRef<ArmorActor.Command> armor, ArmorMessage message, Duration timeout, Scheduler scheduler) {
    return AskPattern.<ArmorActor.Command, ArmorMessage>ask(
            armor, replyTo -> new ArmorActor.Deliver(message, replyTo), timeout, scheduler)
        .thenCompose(
            reply ->
                reply.getError().isEmpty()
                    ? CompletableFuture.completedFuture(reply)
                    : CompletableFuture.failedFuture(new ArmorRequestException(reply.getError())));
  }
}
