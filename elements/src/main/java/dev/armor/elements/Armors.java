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
   * the reply, failing with {@link ArmorRequestException} when the reply carries an error. Completes on the thread
   * that replies, as {@link #ask} does.
   */
  public static CompletionStage<ArmorMessage> request(
      ActorRef<ArmorActor.Command> armor, ArmorMessage message, Duration timeout, Scheduler scheduler) {
    return ask(armor, message, timeout, scheduler)
        .thenCompose(
            reply ->
                reply.getError().isEmpty()
                    ? CompletableFuture.completedFuture(reply)
                    : CompletableFuture.failedFuture(new ArmorRequestException(reply.getError())));
  }

  /**
   * Sends {@code message} through {@code armor} and completes with the reply as it is (an error reply too), or
   * with the ask's {@code TimeoutException}. The future completes on the thread that replies (an actor's, or the
   * scheduler's at the timeout), so what is chained on it runs there: keep it short and never block in it.
   *
   * <p>Why not Pekko's javadsl {@code AskPattern.ask}: the {@code CompletionStage} it returns (Scala's
   * {@code FutureConverters} wrapper) runs every dependent stage, even {@code thenApply} or {@code whenComplete},
   * asynchronously on the default executor, and with fewer than three processors that executor starts a new thread
   * per task: each reply cost a thread's creation and a wake-up, 0.35 to 1.2 ms of a service registration on the
   * loaded 2-core host (docs/ARCHITECTURE.md, "Bind latency"). Here the Scala future completes a plain
   * {@link CompletableFuture} on the completing thread.
   */
  public static CompletableFuture<ArmorMessage> ask(
      ActorRef<ArmorActor.Command> armor, ArmorMessage message, Duration timeout, Scheduler scheduler) {
    return ask(armor, replyTo -> new ArmorActor.Deliver(message, replyTo), timeout, scheduler);
  }

  /**
   * Any actor's ask, completing on the thread that replies (or the scheduler's at the timeout, with the ask's
   * {@code TimeoutException}), for the reason given at {@link #ask(ActorRef, ArmorMessage, Duration, Scheduler)}:
   * Pekko's javadsl ask would run every dependent stage on a thread of its own here.
   */
  public static <Q, R> CompletableFuture<R> ask(
      ActorRef<Q> target, java.util.function.Function<ActorRef<R>, Q> request, Duration timeout,
      Scheduler scheduler) {
    CompletableFuture<R> result = new CompletableFuture<>();
    scala.concurrent.Future<R> reply =
        new org.apache.pekko.actor.typed.scaladsl.AskPattern.Askable<>(target)
            .<R>ask(request::apply, org.apache.pekko.util.Timeout.create(timeout), scheduler);
    reply.onComplete(
        outcome -> {
          if (outcome.isSuccess()) {
            result.complete(outcome.get());
          } else {
            result.completeExceptionally(outcome.failed().get());
          }
          return scala.runtime.BoxedUnit.UNIT;
        },
        scala.concurrent.ExecutionContext.parasitic$.MODULE$);
    return result;
  }
}
