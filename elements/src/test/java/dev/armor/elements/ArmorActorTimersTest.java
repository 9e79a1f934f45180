package dev.armor.elements;

import static dev.armor.elements.TestElement.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import dev.armor.elements.wire.ArmorMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Timers of an ARMOR and of its asks, on Pekko's manual scheduler: the test moves time, nothing sleeps. */
@ExtendWith(LogCapture.class)
class ArmorActorTimersTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final Duration DELAY = Duration.ofSeconds(5);

  private final TestProbe<String> ticks = testKit.createTestProbe();
  private final TestProbe<ArmorMessage> requester = testKit.createTestProbe();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void scheduleToSelf_deliversTheOperationWhenTheDelayHasPassed() {
    ActorRef<ArmorActor.Command> armor = spawnTimerArmor();

    process(armor, "armor-timers", "arm", "first");
    manualTime.timePasses(DELAY.minusMillis(1));
    ticks.expectNoMessage();
    manualTime.timePasses(Duration.ofMillis(1));

    assertThat(ticks.receiveMessage()).isEqualTo("tick:first");
    manualTime.timePasses(DELAY.multipliedBy(2));
    ticks.expectNoMessage(); // a single timer fires once
  }

  @Test
  void scheduleToSelf_sameKeyAgain_replacesThePendingTimer() {
    ActorRef<ArmorActor.Command> armor = spawnTimerArmor();

    process(armor, "armor-timers", "arm", "first");
    manualTime.timePasses(Duration.ofSeconds(3));
    process(armor, "armor-timers", "arm", "second");
    manualTime.timePasses(Duration.ofSeconds(3));
    ticks.expectNoMessage(); // the first would have fired by now
    manualTime.timePasses(Duration.ofSeconds(2));

    assertThat(ticks.receiveMessage()).isEqualTo("tick:second");
    ticks.expectNoMessage();
  }

  @Test
  void cancelTimer_stopsThePendingTimer() {
    ActorRef<ArmorActor.Command> armor = spawnTimerArmor();

    process(armor, "armor-timers", "arm", "first");
    process(armor, "armor-timers", "disarm", "");
    manualTime.timePasses(DELAY.multipliedBy(2));

    ticks.expectNoMessage();
  }

  @Test
  void ask_unanswered_timesOutWithMessageNamingArmorOperationAndTimeout() {
    TestProbe<ArmorMessage> silent = testKit.createTestProbe();
    ArmorRouter blackHole =
        (message, replyTo) -> {
          silent.ref().tell(message);
          return true;
        };
    AtomicReference<CompletionStage<ArmorMessage>> asked = new AtomicReference<>();
    ActorRef<ArmorActor.Command> armor =
        testKit.spawn(
            ArmorActor.create(
                "armor-impatient",
                List.of(
                    TestElement.of(
                        "ASKER",
                        (operation, context) ->
                            asked.set(context.ask("armor-silent", "question", text("anyone?"), Duration.ofSeconds(2))),
                        "ask")),
                blackHole,
                ArmorClock.SYSTEM));

    process(armor, "armor-impatient", "ask", "");
    assertThat(silent.receiveMessage().getTo()).isEqualTo("armor-silent");
    CompletableFuture<ArmorMessage> answer = asked.get().toCompletableFuture();
    manualTime.timePasses(Duration.ofMillis(1999));
    assertThat(answer).isNotDone();
    // The reply collector is a child that starts its timer when it starts, which the test cannot observe:
    // move time on until it has fired.
    await().atMost(Duration.ofSeconds(3)).until(() -> advancedUntilDone(answer, Duration.ofSeconds(2)));

    assertThat(answer)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(TimeoutException.class)
        .withMessage("ARMOR armor-silent did not answer question within 2000 ms");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /**
   * An ARMOR whose element arms a timer on {@code arm(label)} that delivers {@code tick(label)} after
   * {@link #DELAY}, cancels it on {@code disarm}, and reports each tick to {@link #ticks}.
   */
  private ActorRef<ArmorActor.Command> spawnTimerArmor() {
    TestElement timers =
        TestElement.of(
            "TIMERS",
            (operation, context) -> {
              switch (operation.getType()) {
                case "arm" -> context.scheduleToSelf("tick", DELAY, "tick", Ops.argument(operation, StringValue.class));
                case "disarm" -> context.cancelTimer("tick");
                default -> ticks.ref().tell("tick:" + text(operation.getArgument()));
              }
            },
            "arm", "disarm", "tick");
    return testKit.spawn(ArmorActor.create("armor-timers", List.of(timers), (message, replyTo) -> false, ArmorClock.SYSTEM));
  }

  /** Has the ARMOR process {@code type(label)} to its end: once the reply is in, its timers are set. */
  private void process(ActorRef<ArmorActor.Command> armor, String armorId, String type, String label) {
    armor.tell(new ArmorActor.Deliver(Armors.message("client", armorId, type, text(label)), requester.ref()));
    assertThat(requester.receiveMessage().getError()).isEmpty();
  }

  private static boolean advancedUntilDone(CompletableFuture<?> future, Duration step) {
    if (!future.isDone()) {
      manualTime.timePasses(step);
    }
    return future.isDone();
  }
}
