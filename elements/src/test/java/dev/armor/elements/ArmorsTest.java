package dev.armor.elements;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.StringValue;
import dev.armor.elements.wire.ArmorMessage;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@link Armors#ask} and {@link Armors#request}: the reply, the error reply, the timeout, and on which thread. */
class ArmorsTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  /** "hold" messages are answered once this opens, so the test's stages are attached before the reply. */
  private static final CountDownLatch release = new CountDownLatch(1);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Answers each Deliver with its payload, naming the replying thread; "error" in the payload: an error reply. */
  private static Behavior<ArmorActor.Command> echo() {
    return Behaviors.receiveMessage(command -> {
      ArmorActor.Deliver deliver = (ArmorActor.Deliver) command;
      String text = deliver.message().getBundles(0).getOperations(0).getArgument().unpack(StringValue.class).getValue();
      ArmorMessage.Builder reply = ArmorMessage.newBuilder().setTo(deliver.message().getFrom())
          .setCorrelationId(deliver.message().getCorrelationId())
          .setPayload(com.google.protobuf.Any.pack(StringValue.of(Thread.currentThread().getName())));
      if (text.equals("hold")) {
        awaitRelease();
      }
      if (text.equals("error")) {
        reply.setError("refused");
      }
      if (!text.equals("silent")) {
        deliver.replyTo().tell(reply.build());
      }
      return Behaviors.same();
    });
  }

  private static void awaitRelease() {
    try {
      release.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ArmorMessage message(String text) {
    return Armors.message("tester", "echo", "test.echo", StringValue.of(text));
  }

  @Test
  void ask_runsDependentStagesOnTheReplyingThread_notOnANewOne() throws Exception {
    ActorRef<ArmorActor.Command> armor = testKit.spawn(echo());
    CompletableFuture<String[]> threads = Armors.ask(armor, message("hold"), TIMEOUT, testKit.scheduler())
        .thenApply(reply -> new String[] {payload(reply), Thread.currentThread().getName()});
    release.countDown();
    String[] seen = threads.get(5, TimeUnit.SECONDS);
    // Pekko's javadsl ask ran this stage on a thread of its own (a new one per reply on a 2-core machine).
    assertThat(seen[1]).isEqualTo(seen[0]);
  }

  @Test
  void ask_passesAnErrorReplyOn_requestFailsWithIt() throws Exception {
    ActorRef<ArmorActor.Command> armor = testKit.spawn(echo());
    assertThat(Armors.ask(armor, message("error"), TIMEOUT, testKit.scheduler()).get(5, TimeUnit.SECONDS).getError())
        .isEqualTo("refused");
    Throwable failure = catchThrowable(() ->
        Armors.request(armor, message("error"), TIMEOUT, testKit.scheduler()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ArmorRequestException.class)
        .hasRootCauseMessage("refused");
  }

  @Test
  void ask_withoutAReply_failsWithATimeout() {
    ActorRef<ArmorActor.Command> armor = testKit.spawn(echo());
    Throwable failure = catchThrowable(() ->
        Armors.ask(armor, message("silent"), Duration.ofMillis(100), testKit.scheduler()).get(5, TimeUnit.SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
  }

  private static String payload(ArmorMessage reply) {
    try {
      return reply.getPayload().unpack(StringValue.class).getValue();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
