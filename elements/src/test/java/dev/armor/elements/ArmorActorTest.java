package dev.armor.elements;

import static dev.armor.elements.TestElement.text;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Bundle;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** An ARMOR with test elements, driven through its protocol: delivery order, payload, replies, routing. */
@ExtendWith(LogCapture.class)
class ArmorActorTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  /** Routes by ARMOR id to what each test registers; an id nobody registered has no route. */
  private final Map<String, ArmorRouter> routes = new ConcurrentHashMap<>();

  private final ArmorRouter router =
      (message, replyTo) -> {
        ArmorRouter route = routes.get(message.getTo());
        return route != null && route.route(message, replyTo);
      };

  private final TestProbe<String> deliveries = testKit.createTestProbe();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** What a recording route was handed. */
  record Routed(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {}

  // ---- delivery order ----------------------------------------------------------------------------

  @Test
  void bundles_deliverOperationsInOrder_toSubscribersInConfiguredOrder() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor(
            "armor-order",
            TestElement.recording("SECOND_BY_NAME", deliveries.ref(), "a", "c"),
            TestElement.recording("FIRST_BY_NAME", deliveries.ref(), "a", "b"));

    request(armor, message("armor-order", List.of("a", "b"), List.of("c", "a")));

    assertThat(receive(6))
        .containsExactly(
            "SECOND_BY_NAME:a", "FIRST_BY_NAME:a", "FIRST_BY_NAME:b",
            "SECOND_BY_NAME:c",
            "SECOND_BY_NAME:a", "FIRST_BY_NAME:a");
    deliveries.expectNoMessage();
  }

  @Test
  void push_runsAfterOperationsAlreadyQueued_andBeforeTheNextBundle() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor(
            "armor-push",
            TestElement.of(
                "PUSHER",
                (operation, context) -> {
                  deliveries.ref().tell("PUSHER:" + operation.getType());
                  context.push("pushed", text("from a"));
                },
                "a"),
            TestElement.recording("RECORDER", deliveries.ref(), "b", "pushed", "c"));

    request(armor, message("armor-push", List.of("a", "b"), List.of("c")));

    assertThat(receive(4)).containsExactly("PUSHER:a", "RECORDER:b", "RECORDER:pushed", "RECORDER:c");
  }

  // ---- payload and reply -------------------------------------------------------------------------

  @Test
  void payloadRewrittenByOneElement_isSeenByTheNext_andIsTheReply() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor("armor-payload", appending("FIRST", " first", "a"), appending("SECOND", " second", "a"));
    ArmorMessage request =
        Armors.message("client", "armor-payload", "a", text("x")).toBuilder()
            .setPayload(Any.pack(StringValue.of("start")))
            .build();

    ArmorMessage reply = request(armor, request);

    assertThat(text(reply.getPayload())).isEqualTo("start first second");
    assertThat(reply.getFrom()).isEqualTo("armor-payload");
    assertThat(reply.getTo()).isEqualTo("client");
    assertThat(reply.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(reply.getError()).isEmpty();
  }

  // ---- failures ----------------------------------------------------------------------------------

  @Test
  void operationNobodySubscribesTo_failsRequestNamingArmorAndOperation_andArmorKeepsWorking() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor("armor-unknown-op", TestElement.recording("RECORDER", deliveries.ref(), "a", "b"));

    String error = requestError(armor, message("armor-unknown-op", List.of("a", "nobody.handles", "b")));

    assertThat(error).contains("armor-unknown-op").contains("'nobody.handles'");
    assertThat(deliveries.receiveMessage()).isEqualTo("RECORDER:a");
    deliveries.expectNoMessage(); // b, after the failed operation, never ran

    request(armor, message("armor-unknown-op", List.of("b")));
    assertThat(deliveries.receiveMessage()).isEqualTo("RECORDER:b");
  }

  @Test
  void elementThrowing_failsOnlyThatMessage() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor(
            "armor-throws",
            TestElement.of(
                "EXPLOSIVE",
                (operation, context) -> {
                  throw new IllegalStateException("boom");
                },
                "explode"),
            TestElement.recording("RECORDER", deliveries.ref(), "a"));

    String error = requestError(armor, message("armor-throws", List.of("explode", "a")));

    assertThat(error).contains("EXPLOSIVE").contains("armor-throws").contains("explode").contains("boom");
    deliveries.expectNoMessage();

    request(armor, message("armor-throws", List.of("a")));
    assertThat(deliveries.receiveMessage()).isEqualTo("RECORDER:a");
  }

  @Test
  void elementCallingFail_failsTheRequestWithItsError() {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor(
            "armor-fail",
            TestElement.of("REFUSER", (operation, context) -> context.fail("not today"), "a"),
            TestElement.recording("RECORDER", deliveries.ref(), "a"));

    assertThat(requestError(armor, message("armor-fail", List.of("a")))).isEqualTo("not today");
    deliveries.expectNoMessage(); // the next subscriber of the failed operation did not run
  }

  @Test
  void malformedArgument_givesErrorSayingWhatWasExpected() {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor(
            "armor-typed",
            TestElement.of(
                "STRICT",
                (operation, context) -> context.setPayload(Ops.argument(operation, StringValue.class)),
                "typed"));

    String error = requestError(armor, Armors.message("client", "armor-typed", "typed", Int32Value.of(7)));

    assertThat(error).contains("STRICT").contains("armor-typed").contains("typed").contains("does not carry a StringValue");
  }

  // ---- forward, deferred replies, pipeToSelf -----------------------------------------------------

  @Test
  void forward_sendsReplyStraightToOriginalRequester_throughRouter() {
    ActorRef<ArmorActor.Command> front =
        spawnArmor(
            "armor-front",
            TestElement.of(
                "FORWARDER",
                (operation, context) -> {
                  context.setPayload(StringValue.of(text(context.payload()) + " via front"));
                  context.forward("armor-back");
                },
                "greet"));
    spawnArmor("armor-back", appending("BACK", " and back", "greet"));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorMessage request =
        Armors.message("client", "armor-front", "greet", text("hi")).toBuilder()
            .setPayload(Any.pack(StringValue.of("hello")))
            .build();

    front.tell(new ArmorActor.Deliver(request, requester.ref()));

    ArmorMessage reply = requester.receiveMessage();
    assertThat(reply.getFrom()).isEqualTo("armor-back");
    assertThat(reply.getTo()).isEqualTo("client");
    assertThat(reply.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(text(reply.getPayload())).isEqualTo("hello via front and back");
    requester.expectNoMessage(); // the forwarding ARMOR did not answer too
  }

  @Test
  void forward_asNewOperation_isAnsweredByTheOtherArmorStraightToTheRequester() {
    ActorRef<ArmorActor.Command> front =
        spawnArmor(
            "armor-translator",
            TestElement.of(
                "TRANSLATOR",
                (operation, context) ->
                    context.forward("armor-backend", "lookup", text("looked up " + text(operation.getArgument()))),
                "find"));
    spawnArmor(
        "armor-backend",
        TestElement.of(
            "BACKEND",
            (operation, context) -> {
              deliveries.ref().tell("BACKEND:" + operation.getType());
              context.setPayload(Ops.argument(operation, StringValue.class));
            },
            "lookup"),
        TestElement.recording("NOT_FORWARDED", deliveries.ref(), "find"));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorMessage request = message("armor-translator", List.of("find"));

    front.tell(new ArmorActor.Deliver(request, requester.ref()));

    ArmorMessage reply = requester.receiveMessage();
    assertThat(reply.getFrom()).isEqualTo("armor-backend");
    assertThat(reply.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(text(reply.getPayload())).isEqualTo("looked up find");
    assertThat(deliveries.receiveMessage()).isEqualTo("BACKEND:lookup"); // only the new operation went over
    deliveries.expectNoMessage();
    requester.expectNoMessage();
  }

  @Test
  void forward_toUnroutableArmor_answersWithNoRouteError() {
    ActorRef<ArmorActor.Command> front =
        spawnArmor("armor-lost", TestElement.of("FORWARDER", (operation, context) -> context.forward("nowhere"), "a"));

    assertThat(requestError(front, message("armor-lost", List.of("a"))))
        .isEqualTo("no route from armor-lost to ARMOR nowhere");
  }

  @Test
  void deferReply_withPipeToSelf_answersWhenTheStageCompletes() {
    CompletableFuture<String> work = new CompletableFuture<>();
    ActorRef<ArmorActor.Command> armor = spawnArmor("armor-defer", deferringUntil(work));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorMessage request = message("armor-defer", List.of("slow"));

    armor.tell(new ArmorActor.Deliver(request, requester.ref()));
    requester.expectNoMessage();
    work.complete("result");

    ArmorMessage reply = requester.receiveMessage();
    assertThat(text(reply.getPayload())).isEqualTo("done: result");
    assertThat(reply.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(reply.getError()).isEmpty();
    requester.expectNoMessage();
  }

  @Test
  void deferReply_withPipeToSelf_failsWhenTheStageFails() {
    CompletableFuture<String> work = new CompletableFuture<>();
    ActorRef<ArmorActor.Command> armor = spawnArmor("armor-defer-fail", deferringUntil(work));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();

    armor.tell(new ArmorActor.Deliver(message("armor-defer-fail", List.of("slow")), requester.ref()));
    work.completeExceptionally(new IllegalStateException("disk gone"));

    assertThat(requester.receiveMessage().getError()).isEqualTo("failed: disk gone");
  }

  @Test
  void pipeToSelf_stageCompletingWithNull_stillDeliversTheOperation() {
    CompletableFuture<String> work = new CompletableFuture<>();
    ActorRef<ArmorActor.Command> armor = spawnArmor("armor-pipe-null", deferringUntil(work));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();

    armor.tell(new ArmorActor.Deliver(message("armor-pipe-null", List.of("slow")), requester.ref()));
    work.complete(null);

    assertThat(text(requester.receiveMessage().getPayload())).isEqualTo("done: null");
  }

  // ---- messages between ARMORs -------------------------------------------------------------------

  @Test
  void send_deliversOneWayMessageToOtherArmorAndToSelf() {
    spawnArmor(
        "armor-sender",
        TestElement.of(
            "SENDER",
            (operation, context) -> {
              context.send("armor-receiver", "note", text("to the other"));
              context.send("armor-sender", "note", text("to myself"));
            },
            "a"),
        notingSender("SELF"));
    spawnArmor("armor-receiver", notingSender("OTHER"));

    routes.get("armor-sender").route(message("armor-sender", List.of("a")), null);

    assertThat(receive(2))
        .containsExactlyInAnyOrder("OTHER:to the other from armor-sender", "SELF:to myself from armor-sender");
  }

  @Test
  void messageAddressedToAnotherArmor_isHandedToRouterWithItsReplyTo() {
    TestProbe<Routed> routed = testKit.createTestProbe();
    routes.put(
        "armor-far",
        (message, replyTo) -> {
          routed.ref().tell(new Routed(message, replyTo));
          return true;
        });
    ActorRef<ArmorActor.Command> gateway =
        spawnArmor("armor-gateway", TestElement.recording("LOCAL", deliveries.ref(), "a"));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorMessage message = message("armor-far", List.of("a"));

    gateway.tell(new ArmorActor.Deliver(message, requester.ref()));

    assertThat(routed.receiveMessage()).isEqualTo(new Routed(message, requester.ref()));
    deliveries.expectNoMessage(); // the gateway's own elements never saw it
    requester.expectNoMessage(); // the gateway does not answer for the other ARMOR
  }

  @Test
  void unroutableMessage_isAnsweredWithNoRouteError() {
    ActorRef<ArmorActor.Command> gateway =
        spawnArmor("armor-island", TestElement.recording("LOCAL", deliveries.ref(), "a"));
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorMessage message = message("armor-ghost", List.of("a"));

    gateway.tell(new ArmorActor.Deliver(message, requester.ref()));

    ArmorMessage reply = requester.receiveMessage();
    assertThat(reply.getError()).isEqualTo("no route from armor-island to ARMOR armor-ghost");
    assertThat(reply.getCorrelationId()).isEqualTo(message.getCorrelationId());
    assertThat(reply.getFrom()).isEqualTo("armor-island");
    deliveries.expectNoMessage();
  }

  @Test
  void ask_toAnotherArmorThroughRouter_completesWithItsReply() throws Exception {
    AtomicReference<CompletionStage<ArmorMessage>> asked = new AtomicReference<>();
    spawnArmor("armor-asker", asking("armor-answerer", asked));
    spawnArmor(
        "armor-answerer",
        TestElement.of(
            "ANSWERER",
            (operation, context) -> context.setPayload(StringValue.of("because of " + text(operation.getArgument()))),
            "question"));

    routes.get("armor-asker").route(message("armor-asker", List.of("ask")), null);

    ArmorMessage reply = awaitAsk(asked).get(3, SECONDS);
    assertThat(reply.getFrom()).isEqualTo("armor-answerer");
    assertThat(reply.getTo()).isEqualTo("armor-asker");
    assertThat(text(reply.getPayload())).isEqualTo("because of why?");
  }

  @Test
  void ask_answeredWithError_failsWithArmorRequestException() {
    AtomicReference<CompletionStage<ArmorMessage>> asked = new AtomicReference<>();
    spawnArmor("armor-asker-2", asking("armor-refuser", asked));
    spawnArmor("armor-refuser", TestElement.of("REFUSER", (operation, context) -> context.fail("no answer for you"), "question"));

    routes.get("armor-asker-2").route(message("armor-asker-2", List.of("ask")), null);

    Throwable failure = catchThrowable(() -> awaitAsk(asked).get(3, SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause()).isInstanceOf(ArmorRequestException.class).hasMessage("no answer for you");
  }

  @Test
  void ask_toUnroutableArmor_failsAtOnceSayingNoRoute() {
    AtomicReference<CompletionStage<ArmorMessage>> asked = new AtomicReference<>();
    spawnArmor("armor-asker-3", asking("armor-missing", asked));

    routes.get("armor-asker-3").route(message("armor-asker-3", List.of("ask")), null);

    Throwable failure = catchThrowable(() -> awaitAsk(asked).get(3, SECONDS));
    assertThat(failure.getCause()).hasMessage("no route from armor-asker-3 to ARMOR armor-missing");
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  @Test
  void started_runsBeforeAnyMessage_andStopped_runsForEveryElementEvenIfOneThrows() throws Exception {
    ActorRef<ArmorActor.Command> armor =
        spawnArmor("armor-life", lifecycle("FIRST", true), lifecycle("SECOND", false));

    request(armor, message("armor-life", List.of("a")));
    testKit.stop(armor);

    assertThat(receive(6))
        .containsExactly(
            "FIRST started in armor-life", "SECOND started in armor-life",
            "FIRST:a", "SECOND:a",
            "FIRST stopped", "SECOND stopped");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private ActorRef<ArmorActor.Command> spawnArmor(String armorId, Element... elements) {
    ActorRef<ArmorActor.Command> armor =
        testKit.spawn(ArmorActor.create(armorId, List.of(elements), router, ArmorClock.SYSTEM));
    routes.put(
        armorId,
        (message, replyTo) -> {
          armor.tell(new ArmorActor.Deliver(message, replyTo));
          return true;
        });
    return armor;
  }

  /** An element that appends {@code suffix} to the payload string (an unset payload counts as empty). */
  private static TestElement appending(String name, String suffix, String type) {
    return TestElement.of(
        name,
        (operation, context) -> {
          String before = context.payload().equals(Any.getDefaultInstance()) ? "" : text(context.payload());
          context.setPayload(StringValue.of(before + suffix));
        },
        type);
  }

  /** An element that reports its start, each {@code a}, and its stop; {@code failToStop} makes stopping throw. */
  private Element lifecycle(String name, boolean failToStop) {
    return new Element() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public java.util.Set<String> subscriptions() {
        return java.util.Set.of("a");
      }

      @Override
      public void handle(dev.armor.elements.wire.Operation operation, ElementContext context) {
        deliveries.ref().tell(name + ":" + operation.getType());
      }

      @Override
      public void started(ElementContext context) {
        deliveries.ref().tell(name + " started in " + context.armorId());
      }

      @Override
      public void stopped() {
        deliveries.ref().tell(name + " stopped");
        if (failToStop) {
          throw new IllegalStateException("could not let go");
        }
      }
    };
  }

  /** An element that reports {@code label:argument from sender} for each {@code note}. */
  private TestElement notingSender(String label) {
    return TestElement.of(
        label,
        (operation, context) ->
            deliveries.ref().tell(label + ":" + text(operation.getArgument()) + " from " + context.message().getFrom()),
        "note");
  }

  /**
   * An element that defers the reply to {@code slow} until {@code work} completes, piped back as {@code done}:
   * the reply is {@code "done: <value>"} or the error {@code "failed: <message>"}.
   */
  private static TestElement deferringUntil(CompletableFuture<String> work) {
    AtomicReference<ReplyHandle> pending = new AtomicReference<>();
    return TestElement.of(
        "DEFERRER",
        (operation, context) -> {
          if (operation.getType().equals("slow")) {
            pending.set(context.deferReply());
            context.pipeToSelf(
                work,
                (value, failure) ->
                    failure == null
                        ? Ops.of("done", StringValue.of("done: " + value))
                        : Ops.of("failed", StringValue.of("failed: " + failure.getMessage())));
          } else if (operation.getType().equals("done")) {
            pending.get().complete(Ops.argument(operation, StringValue.class));
          } else {
            pending.get().fail(text(operation.getArgument()));
          }
        },
        "slow", "done", "failed");
  }

  /** An element that, on {@code ask}, asks {@code target} a {@code question} and hands the stage to the test. */
  private static TestElement asking(String target, AtomicReference<CompletionStage<ArmorMessage>> asked) {
    return TestElement.of(
        "ASKER",
        (operation, context) -> asked.set(context.ask(target, "question", text("why?"), TIMEOUT)),
        "ask");
  }

  private static CompletableFuture<ArmorMessage> awaitAsk(AtomicReference<CompletionStage<ArmorMessage>> asked) {
    org.awaitility.Awaitility.await().atMost(TIMEOUT).until(() -> asked.get() != null);
    return asked.get().toCompletableFuture();
  }

  /** A message from {@code client} to {@code to} with one bundle per list, each operation carrying its type. */
  @SafeVarargs
  private static ArmorMessage message(String to, List<String>... bundles) {
    ArmorMessage.Builder message = Armors.message("client", to, "unused", text("")).toBuilder().clearBundles();
    for (List<String> types : bundles) {
      Bundle.Builder bundle = Bundle.newBuilder();
      types.forEach(type -> bundle.addOperations(Ops.of(type, text(type))));
      message.addBundles(bundle);
    }
    return message.build();
  }

  private static ArmorMessage request(ActorRef<ArmorActor.Command> armor, ArmorMessage message) throws Exception {
    return Armors.request(armor, message, TIMEOUT, testKit.scheduler()).toCompletableFuture().get(5, SECONDS);
  }

  /** Sends a request that must fail, and returns the error the ARMOR answered with. */
  private static String requestError(ActorRef<ArmorActor.Command> armor, ArmorMessage message) {
    Throwable failure = catchThrowable(() -> request(armor, message));
    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause()).isInstanceOf(ArmorRequestException.class);
    return failure.getCause().getMessage();
  }

  private List<String> receive(int count) {
    return deliveries.receiveSeveralMessages(count);
  }
}
