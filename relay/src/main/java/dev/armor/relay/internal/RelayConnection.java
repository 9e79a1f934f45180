package dev.armor.relay.internal;

import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;

/**
 * What both sides' connections share: identity, the state machine and its single {@link #transitionTo} method,
 * byte counters, and the snapshot for {@link dev.armor.relay.Relay#connections()}.
 *
 * <p>Concurrency: all mutable state is confined to {@link #loop}, the worker loop that owns both sockets of the
 * connection. Fields read by other threads ({@link #state}, counters) are volatile and written only by that loop.
 * Other threads reach a connection through {@link #execute}.
 */
abstract class RelayConnection {

  /** The reason of a close that both apps asked for (FIN both ways). */
  static final String NORMAL_CLOSE = "closed normally by both apps";

  final NettyRelay relay;
  final String id;
  final ServiceAddress service;
  /** The client app's address; client side: replaced when a restarted client takes over an orphaned connection. */
  volatile InetSocketAddress client;
  final Side side;
  final EventLoop loop;

  private volatile State state = State.CONNECTING;
  private long stateSinceNanos;
  volatile long bytesToServer;
  volatile long bytesToClient;
  volatile int reattachments;
  /** The recovery in effect (see {@link ConnectionInfo#recovery()}). */
  volatile RecoveryPolicy recovery = RecoveryPolicy.RECONNECT;
  volatile long replayLogBytes;
  volatile long peerAcknowledged;
  volatile long divergedAtOffset = -1;

  RelayConnection(
      NettyRelay relay, String id, ServiceAddress service, InetSocketAddress client, Side side, EventLoop loop) {
    this.relay = relay;
    this.id = id;
    this.service = service;
    this.client = client;
    this.side = side;
    this.loop = loop;
    this.stateSinceNanos = relay.nanoTime();
  }

  /** The legal transitions of this side's connections: {@code from -> allowed next states}. */
  abstract Map<State, Set<State>> legalTransitions();

  abstract Logger log();

  final State state() {
    return state;
  }

  final boolean isClosed() {
    return state == State.CLOSED;
  }

  /**
   * Half-closes {@code app} towards its app once everything queued for it is written (Netty's shutdownOutput()
   * discards pending writes), then runs {@code onShut} on the event loop, unless this connection closed meanwhile.
   */
  final void shutdownAppOutputAfterPendingWrites(Channel app, Runnable onShut) {
    app.writeAndFlush(Unpooled.EMPTY_BUFFER)
        .addListener(
            written -> {
              if (!isClosed() && written.isSuccess()) {
                ((DuplexChannel) app).shutdownOutput().addListener(shut -> onShut.run());
              }
            });
  }

  /** Nanoseconds spent in the current state. */
  final long nanosInState(long nowNanos) {
    return nowNanos - stateSinceNanos;
  }

  /**
   * The one way a connection changes state: validates the transition, logs it in an operator's words, and
   * publishes it to the relay's listener (and, on CLOSED, removes the connection from the relay's registry).
   *
   * @param reason for HELD and CLOSED: why, as in "server lost (link closed)"; for ATTACHED: where to and how,
   *     as in "to 127.0.0.3:41234 after 812 ms held, 4096 bytes held delivered"
   * @throws IllegalStateException naming both states if the transition is not legal
   */
  final void transitionTo(State next, long nowNanos, String reason) {
    State from = state;
    Set<State> allowed = legalTransitions().getOrDefault(from, Set.of());
    if (!allowed.contains(next)) {
      throw new IllegalStateException(
          "connection " + id + ": illegal state transition " + from + " -> " + next + " (" + reason + ")");
    }
    state = next;
    stateSinceNanos = nowNanos;
    boolean routine = isRoutine(from, next, reason);
    switch (next) {
      case ATTACHED -> {
        log(routine, "{} {} {}", describe(), reattachments > 0 ? "re-attached" : "attached", reason);
        relay.listener().connectionAttached(info());
      }
      case HELD -> {
        log().warn("{} held: {}", describe(), reason);
        relay.listener().connectionHeld(info(), reason);
      }
      case CLOSED -> {
        log(routine, "{} closed: {}", describe(), reason);
        relay.unregister(this);
        relay.listener().connectionClosed(info(), reason);
      }
      case ORPHANED -> {
        log().warn("{} orphaned: {}", describe(), reason);
        relay.listener().connectionHeld(info(), reason);
      }
      case CONNECTING -> log().info("{} connecting: {}", describe(), reason);
    }
  }

  /**
   * Routine changes (a first attach, a close both apps asked for) are logged at DEBUG: an operator's log shows what
   * went wrong or was recovered, not every connection of a busy server.
   */
  private boolean isRoutine(State from, State next, String reason) {
    return (next == State.ATTACHED && from == State.CONNECTING && isRoutineAttach()) || NORMAL_CLOSE.equals(reason);
  }

  /** Whether attaching now is routine (a first attempt that went straight through). */
  abstract boolean isRoutineAttach();

  private void log(boolean routine, String format, Object... args) {
    if (routine) {
      log().debug(format, args);
    } else {
      log().info(format, args);
    }
  }

  /** "connection n1-17 to 127.0.0.2:7000", and the side when it is the server's. */
  String describe() {
    return "connection " + id + " to " + service + (side == Side.SERVER ? " (server side)" : "");
  }

  final ConnectionInfo info() {
    return new ConnectionInfo(
        id,
        service,
        client,
        side,
        state,
        bytesToServer,
        bytesToClient,
        reattachments,
        recovery,
        replayLogBytes,
        peerAcknowledged,
        divergedAtOffset,
        serverBytesKept(),
        direct());
  }

  /** See {@link ConnectionInfo#serverBytesKept()}; read from any thread. */
  long serverBytesKept() {
    return 0;
  }

  /** See {@link ConnectionInfo#direct()}; read from any thread. */
  boolean direct() {
    return false;
  }

  /** Runs {@code task} on this connection's loop; dropped (with the relay) if the loop is shutting down. */
  final void execute(Runnable task) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      // the relay is closing; its shutdown closes every channel
    }
  }

  /** Ends the connection because the relay is closing: both sockets get a reset. Runs on {@link #loop}. */
  abstract void shutdown();

  /**
   * Asks a liveness probe, turning a probe that throws or returns no future into a failed answer, so the caller's
   * grace timer and answer handling are the only paths (both sides of the relay probe their app this way).
   */
  static java.util.concurrent.CompletableFuture<Boolean> ask(dev.armor.relay.LivenessProbe probe) {
    try {
      java.util.concurrent.CompletableFuture<Boolean> answer = probe.appAlive();
      return answer != null ? answer
          : java.util.concurrent.CompletableFuture.failedFuture(new NullPointerException("probe returned no future"));
    } catch (RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }
}
