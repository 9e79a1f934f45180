package dev.armor.elements;

import dev.armor.elements.wire.ArmorMessage;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A short-lived child that waits for one reply to an ARMOR's request, or its timeout. */
final class ReplyCollector {

  private ReplyCollector() {}

  private enum Timeout {
    INSTANCE
  }

  static Behavior<ArmorMessage> create(
      CompletableFuture<ArmorMessage> result, Duration timeout, String to, String type) {
    return Behaviors.<Object>setup(
            context ->
                Behaviors.withTimers(
                    timers -> {
                      timers.startSingleTimer(Timeout.INSTANCE, timeout);
                      return Behaviors.receive(Object.class)
                          .onMessage(ArmorMessage.class, reply -> complete(result, reply))
                          .onMessageEquals(
                              Timeout.INSTANCE,
                              () -> {
                                result.completeExceptionally(
                                    new TimeoutException(
                                        "ARMOR " + to + " did not answer " + type + " within " + timeout.toMillis() + " ms"));
                                return Behaviors.stopped();
                              })
                          .build();
                    }))
        .narrow();
  }

  private static Behavior<Object> complete(CompletableFuture<ArmorMessage> result, ArmorMessage reply) {
    if (reply.getError().isEmpty()) {
      result.complete(reply);
    } else {
      result.completeExceptionally(new ArmorRequestException(reply.getError()));
    }
    return Behaviors.stopped();
  }
}
