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
    // The ask's timer started with the ask, before the question went out: one more millisecond fires it.
    manualTime.timePasses(Duration.ofMillis(1));
    await().atMost(Duration.ofSeconds(3)).until(answer::isDone);

    assertThat(answer)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(TimeoutException.class)
        .withMessage("ARMOR armor-silent did not answer question within 2000 ms");
  }

  @Test
  void ask_twoInFlight_eachCompletesWithTheReplyCarryingItsCorrelationId() {
    TestProbe<Asked> asked = testKit.createTestProbe();
    List<CompletionStage<ArmorMessage>> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    ActorRef<ArmorActor.Command> armor = spawnAsker("armor-curious", asked, answers);

    process(armor, "armor-curious", "ask", "first");
    process(armor, "armor-curious", "ask", "second");
    Asked first = asked.receiveMessage();
    Asked second = asked.receiveMessage();
    // Answered in the other order: the replies come back through one adapter, matched by correlation id.
    second.replyTo().tell(reply(second.request(), "to second"));
    first.replyTo().tell(reply(first.request(), "to first"));

    assertThat(text(answers.get(0).toCompletableFuture().join().getPayload())).isEqualTo("to first");
    assertThat(text(answers.get(1).toCompletableFuture().join().getPayload())).isEqualTo("to second");
  }

  @Test
  void ask_replyAfterTheTimeout_isDropped_andTheArmorGoesOn() {
    TestProbe<Asked> asked = testKit.createTestProbe();
    List<CompletionStage<ArmorMessage>> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    ActorRef<ArmorActor.Command> armor = spawnAsker("armor-late", asked, answers);

    process(armor, "armor-late", "ask", "once");
    Asked late = asked.receiveMessage();
    manualTime.timePasses(Duration.ofSeconds(2));
    CompletableFuture<ArmorMessage> answer = answers.get(0).toCompletableFuture();
    await().atMost(Duration.ofSeconds(3)).until(answer::isDone);
    late.replyTo().tell(reply(late.request(), "too late"));

    assertThat(answer).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(TimeoutException.class);
    process(armor, "armor-late", "ask", "again"); // still answers its own requests
    asked.receiveMessage();
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** A request an ARMOR sent out, and where its reply goes. */
  private record Asked(ArmorMessage request, ActorRef<ArmorMessage> replyTo) {}

  /** An ARMOR that, on {@code ask}, asks {@code armor-oracle} (2 s timeout); its router hands each request to {@code asked}. */
  private ActorRef<ArmorActor.Command> spawnAsker(String armorId, TestProbe<Asked> asked,
      List<CompletionStage<ArmorMessage>> answers) {
    ArmorRouter toProbe = (message, replyTo) -> {
      asked.ref().tell(new Asked(message, replyTo));
      return true;
    };
    TestElement asker = TestElement.of("ASKER",
        (operation, context) -> answers.add(context.ask("armor-oracle", "question", text("?"), Duration.ofSeconds(2))),
        "ask");
    return testKit.spawn(ArmorActor.create(armorId, List.of(asker), toProbe, ArmorClock.SYSTEM));
  }

  private static ArmorMessage reply(ArmorMessage request, String answer) {
    return ArmorMessage.newBuilder().setFrom(request.getTo()).setTo(request.getFrom())
        .setCorrelationId(request.getCorrelationId()).setPayload(com.google.protobuf.Any.pack(text(answer))).build();
  }

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

}
