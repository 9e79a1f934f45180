package dev.armor.elements;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.Bundle;
import dev.armor.elements.wire.Operation;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * An ARMOR: a typed actor hosting elements.
 *
 * <p>Design note. Each {@link Command.Deliver}ed message addressed to this ARMOR is processed to the end before
 * the next: its bundles in order, and within a bundle its operations in order, each handed to the elements
 * subscribed to its type in the order the ARMOR was configured with. Elements may push operations onto the
 * bundle being processed (they run after the ones already queued), rewrite the payload, or fail the message.
 * When processing ends, a request (one that came with a {@code replyTo}) is answered with the final payload,
 * unless an element forwarded the message or deferred the reply. A message addressed to another ARMOR id is
 * handed to the {@link ArmorRouter}: that is how a daemon acts as the gateway for the ARMORs it hosts.
 *
 * <p>Failures: an operation nobody subscribes to, a malformed argument or an element's exception fail that
 * message only, with an error that names the ARMOR, the element and the operation; the ARMOR goes on.
 *
 * <p>Asks. An element's {@link ElementContext#ask} goes out with this ARMOR's one reply adapter as its
 * {@code replyTo}; the reply comes back into this actor's mailbox and is matched to its ask by correlation id, and a
 * timer per ask fails it when no reply came in time. (A child actor per ask, as before, cost a spawn and one more
 * thread hand-off on every request: on a loaded host each hand-off is a scheduling wait, and a service registration
 * is such a request.) A reply after the timeout, or to an ask this ARMOR never made, is dropped.
 */
public final class ArmorActor extends AbstractBehavior<ArmorActor.Command> {

  /** The ARMOR's protocol. Only {@link Deliver} crosses the wire. */
  public sealed interface Command {}

  /** A message for this ARMOR (or, in a gateway, for an ARMOR it routes to). */
  public record Deliver(ArmorMessage message, ActorRef<ArmorMessage> replyTo) implements Command {}

  /** An operation an element scheduled or piped to this ARMOR. */
  private record SelfOperation(Operation operation) implements Command {}

  /** A reply to one of this ARMOR's asks, through its reply adapter. */
  private record ReplyArrived(ArmorMessage reply) implements Command {}

  /** The timer of the ask with this correlation id fired. */
  private record AskTimedOut(long correlationId) implements Command {}

  /** An ask waiting for its reply. */
  private record PendingAsk(CompletableFuture<ArmorMessage> result, String to, String type, Duration timeout) {}

  private final String armorId;
  private final List<Element> elements;
  private final Map<String, List<Element>> subscribers = new LinkedHashMap<>();
  private final ArmorRouter router;
  private final ArmorClock clock;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ArmorMessage> replies;
  private final Map<Long, PendingAsk> asks = new HashMap<>();
  private long nextCorrelationId = 1;

  public static Behavior<Command> create(
      String armorId, List<Element> elements, ArmorRouter router, ArmorClock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new ArmorActor(context, timers, armorId, elements, router, clock)));
  }

  private ArmorActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String armorId,
      List<Element> elements,
      ArmorRouter router,
      ArmorClock clock) {
    super(context);
    this.timers = timers;
    this.armorId = armorId;
    this.elements = List.copyOf(elements);
    this.router = router;
    this.clock = clock;
    this.replies = context.messageAdapter(ArmorMessage.class, ReplyArrived::new);
    for (Element element : this.elements) {
      for (String type : element.subscriptions()) {
        subscribers.computeIfAbsent(type, t -> new ArrayList<>()).add(element);
      }
    }
    Processing startup = new Processing(ArmorMessage.getDefaultInstance(), null);
    for (Element element : this.elements) {
      element.started(startup);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(SelfOperation.class, this::onSelfOperation)
        .onMessage(ReplyArrived.class, this::onReplyArrived)
        .onMessage(AskTimedOut.class, this::onAskTimedOut)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onDeliver(Deliver deliver) {
    ArmorMessage message = deliver.message();
    if (!message.getTo().isEmpty() && !message.getTo().equals(armorId)) {
      if (!router.route(message, deliver.replyTo())) {
        replyError(message, deliver.replyTo(), "no route from " + armorId + " to ARMOR " + message.getTo());
      }
      return this;
    }
    process(message, deliver.replyTo());
    return this;
  }

  private Behavior<Command> onSelfOperation(SelfOperation self) {
    ArmorMessage message =
        ArmorMessage.newBuilder()
            .setFrom(armorId)
            .setTo(armorId)
            .addBundles(Bundle.newBuilder().addOperations(self.operation()))
            .build();
    process(message, null);
    return this;
  }

  private Behavior<Command> onReplyArrived(ReplyArrived arrived) {
    ArmorMessage reply = arrived.reply();
    PendingAsk ask = asks.remove(reply.getCorrelationId());
    if (ask == null) {
      getContext().getLog().debug("ARMOR {}: dropped a reply from {} to no pending ask (correlation {}; late?)",
          armorId, reply.getFrom(), reply.getCorrelationId());
      return this;
    }
    timers.cancel(new AskTimedOut(reply.getCorrelationId()));
    if (reply.getError().isEmpty()) {
      ask.result().complete(reply);
    } else {
      ask.result().completeExceptionally(new ArmorRequestException(reply.getError()));
    }
    return this;
  }

  private Behavior<Command> onAskTimedOut(AskTimedOut timedOut) {
    PendingAsk ask = asks.remove(timedOut.correlationId());
    if (ask != null) {
      ask.result().completeExceptionally(new TimeoutException(
          "ARMOR " + ask.to() + " did not answer " + ask.type() + " within " + ask.timeout().toMillis() + " ms"));
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    for (PendingAsk ask : asks.values()) {
      ask.result().completeExceptionally(new IllegalStateException(
          "ARMOR " + armorId + " stopped before ARMOR " + ask.to() + " answered " + ask.type()));
    }
    asks.clear();
    for (Element element : elements) {
      try {
        element.stopped();
      } catch (RuntimeException e) {
        getContext().getLog().warn("element {} of ARMOR {} failed to stop cleanly", element.name(), armorId, e);
      }
    }
    return this;
  }

  private void process(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    Processing processing = new Processing(message, replyTo);
    processing.run();
    if (replyTo != null && !processing.replyTaken) {
      ArmorMessage.Builder reply = replyBuilder(message).setPayload(processing.payload);
      if (processing.error != null) {
        reply.setError(processing.error);
      }
      replyTo.tell(reply.build());
    }
  }

  private ArmorMessage.Builder replyBuilder(ArmorMessage request) {
    return ArmorMessage.newBuilder()
        .setFrom(armorId)
        .setTo(request.getFrom())
        .setCorrelationId(request.getCorrelationId());
  }

  private void replyError(ArmorMessage request, ActorRef<ArmorMessage> replyTo, String error) {
    getContext().getLog().warn("ARMOR {}: {}", armorId, error);
    if (replyTo != null) {
      replyTo.tell(replyBuilder(request).setError(error).build());
    }
  }

  private ArmorMessage newMessage(String to, String type, Message argument) {
    return ArmorMessage.newBuilder()
        .setFrom(armorId)
        .setTo(to)
        .setCorrelationId(nextCorrelationId++)
        .addBundles(Bundle.newBuilder().addOperations(Ops.of(type, argument)))
        .build();
  }

  /** The processing of one message: the element context for its operations. */
  private final class Processing implements ElementContext {
    private final ArmorMessage message;
    private final ActorRef<ArmorMessage> replyTo;
    private final ArrayDeque<Operation> bundle = new ArrayDeque<>();
    private Any payload;
    private String error;
    private boolean replyTaken;

    Processing(ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
      this.message = message;
      this.replyTo = replyTo;
      this.payload = message.getPayload();
    }

    void run() {
      for (Bundle b : message.getBundlesList()) {
        bundle.addAll(b.getOperationsList());
        while (error == null && !bundle.isEmpty()) {
          deliver(bundle.poll());
        }
        if (error != null) {
          return;
        }
      }
    }

    private void deliver(Operation operation) {
      List<Element> targets = subscribers.get(operation.getType());
      if (targets == null) {
        fail("no element of ARMOR " + armorId + " handles operation '" + operation.getType() + "'");
        return;
      }
      for (Element element : targets) {
        try {
          element.handle(operation, this);
        } catch (Exception e) {
          String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
          if (!(e instanceof Ops.MalformedMessageException)) {
            getContext().getLog().error("element {} of ARMOR {} failed on {}", element.name(), armorId, operation.getType(), e);
          }
          fail(element.name() + " of ARMOR " + armorId + " could not handle " + operation.getType() + ": " + why);
        }
        if (error != null) {
          return;
        }
      }
    }

    @Override
    public String armorId() {
      return armorId;
    }

    @Override
    public ArmorMessage message() {
      return message;
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
    public void push(String type, Message argument) {
      bundle.add(Ops.of(type, argument));
    }

    @Override
    public ReplyHandle deferReply() {
      replyTaken = true;
      ActorRef<ArmorMessage> to = replyTo;
      ArmorMessage request = message;
      return new ReplyHandle() {
        @Override
        public void complete(Message reply) {
          if (to != null) {
            to.tell(replyBuilder(request).setPayload(Any.pack(reply)).build());
          }
        }

        @Override
        public void fail(String failure) {
          if (to != null) {
            to.tell(replyBuilder(request).setError(failure).build());
          }
        }
      };
    }

    @Override
    public void fail(String failure) {
      if (error == null) {
        error = failure;
        getContext().getLog().warn("ARMOR {}: {}", armorId, failure);
      }
    }

    @Override
    public void send(String toArmorId, String type, Message argument) {
      ArmorMessage outgoing = newMessage(toArmorId, type, argument);
      if (toArmorId.equals(armorId)) {
        getContext().getSelf().tell(new Deliver(outgoing, null));
      } else if (!router.route(outgoing, null)) {
        getContext().getLog().warn("ARMOR {}: no route to ARMOR {} for {}", armorId, toArmorId, type);
      }
    }

    @Override
    public void forward(String toArmorId) {
      replyTaken = true;
      ArmorMessage forwarded = message.toBuilder().setTo(toArmorId).setPayload(payload).build();
      if (!router.route(forwarded, replyTo)) {
        replyError(message, replyTo, "no route from " + armorId + " to ARMOR " + toArmorId);
      }
    }

    @Override
    public void forward(String toArmorId, String type, Message argument) {
      replyTaken = true;
      ArmorMessage forwarded =
          message.toBuilder()
              .setTo(toArmorId)
              .clearBundles()
              .addBundles(Bundle.newBuilder().addOperations(Ops.of(type, argument)))
              .build();
      if (!router.route(forwarded, replyTo)) {
        replyError(message, replyTo, "no route from " + armorId + " to ARMOR " + toArmorId);
      }
    }

    @Override
    public CompletionStage<ArmorMessage> ask(String toArmorId, String type, Message argument, Duration timeout) {
      CompletableFuture<ArmorMessage> result = new CompletableFuture<>();
      ArmorMessage request = newMessage(toArmorId, type, argument);
      long correlationId = request.getCorrelationId();
      asks.put(correlationId, new PendingAsk(result, toArmorId, type, timeout));
      timers.startSingleTimer(new AskTimedOut(correlationId), new AskTimedOut(correlationId), timeout);
      if (!router.route(request, replies)) {
        asks.remove(correlationId);
        timers.cancel(new AskTimedOut(correlationId));
        result.completeExceptionally(new IllegalStateException("no route from " + armorId + " to ARMOR " + toArmorId));
      }
      return result;
    }

    @Override
    public <T> void pipeToSelf(CompletionStage<T> stage, BiFunction<T, Throwable, Operation> toOperation) {
      getContext().pipeToSelf(stage, (value, failure) -> new SelfOperation(toOperation.apply(value, failure)));
    }

    @Override
    public void scheduleToSelf(String key, Duration delay, String type, Message argument) {
      timers.startSingleTimer(key, new SelfOperation(Ops.of(type, argument)), delay);
    }

    @Override
    public void cancelTimer(String key) {
      timers.cancel(key);
    }

    @Override
    public long nanoTime() {
      return clock.nanoTime();
    }

    @Override
    public long currentTimeMillis() {
      return clock.currentTimeMillis();
    }

    @Override
    public Logger log() {
      return getContext().getLog();
    }
  }

  /** Subscriptions, for status. */
  Set<String> subscribedTypes() {
    return subscribers.keySet();
  }
}
