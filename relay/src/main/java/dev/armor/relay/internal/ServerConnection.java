package dev.armor.relay.internal;

import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.RelayListener;
import dev.armor.relay.internal.LinkFrames.Abort;
import dev.armor.relay.internal.LinkFrames.Ack;
import dev.armor.relay.internal.LinkFrames.AppEnd;
import dev.armor.relay.internal.LinkFrames.AbortReason;
import dev.armor.relay.internal.LinkFrames.Fin;
import dev.armor.relay.internal.LinkFrames.Frame;
import dev.armor.relay.internal.LinkFrames.Open;
import dev.armor.relay.internal.LinkFrames.Opened;
import dev.armor.relay.internal.LinkFrames.RefusalReason;
import dev.armor.relay.internal.LinkFrames.Refused;
import dev.armor.relay.internal.NettyRelay.Exposure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server side (APP_COMM_SERVER) of one attempt of a proxied connection: a link from the client's daemon, and the
 * relay's connection to the local server app. A re-attached client connection arrives as a new link with the same
 * id and the next attempt number, so it is a new {@code ServerConnection}.
 *
 * <p>Design note. Before connecting to the app the relay binds its local port and records port -> client address
 * (for {@link dev.armor.relay.Relay#clientOfLocalPort}) and tells the exposure's {@link dev.armor.relay.ClientAnnouncer},
 * so the mapping exists before the app can accept. When the
 * app ends the connection (end of stream or reset, which is also what a crash looks like) the service's
 * {@link dev.armor.relay.LivenessProbe} decides: alive passes the end on (FIN, or ABORT(RESET)); dead sends
 * ABORT(SERVER_LOST) so the client side holds, or ABORT(SERVER_LOST_UNANSWERED) when the dead app's end of stream came
 * after it had read client bytes it never answered ({@link UnansweredInput}): the client side then ends its client's
 * connection. An unanswered probe counts as alive after the grace period (a slow
 * probe must not hang the client; a wrong "alive" costs one connection, a wrong "dead" would hold it for nothing).
 *
 * <p>Early bytes. The client side sends the client app's first bytes right after the OPEN, without waiting for
 * OPENED (except on a replay); they are kept here, in order, until the app is connected, then passed on first. Past
 * the hold bound the link is not read until then, so they cannot grow without limit.
 *
 * <p>Replay. An OPEN with policy REPLAY makes this side acknowledge (ACK) what it wrote to the app, so the client
 * side knows how much of its stream the instance has read; a replayed attempt looks like any other to the app: a
 * new connection whose client sends its stream from the start. Duplicate suppression is the client side's job.
 *
 * <p>Direct path (an OPEN naming the client side's own address, {@link LinkFrames.Open#directFrom}). The client's
 * daemon connects straight to the app; this side opens no socket to it. It maps and announces that address as it
 * would its own local port, answers OPENED with the app's listener, and from then on sees the app's connection only
 * through the client side's reports: APP_END when it ended (asked about exactly as an end seen on its own socket:
 * the probe decides FIN, ABORT(RESET) or ABORT(SERVER_LOST)), FIN when the client side shut the app's input. It grants
 * the direct path unless the app listens on a loopback address and the link comes from another host, which could not
 * reach it: then the connection is relayed as any other.
 *
 * <p>Concurrency: the app socket is opened on the link's event loop; all state is confined to it.
 */
final class ServerConnection extends RelayConnection {

  private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

  private static final Map<State, Set<State>> TRANSITIONS =
      Map.of(
          State.CONNECTING, EnumSet.of(State.ATTACHED, State.CLOSED),
          State.ATTACHED, EnumSet.of(State.CLOSED),
          State.HELD, EnumSet.noneOf(State.class),
          State.CLOSED, EnumSet.noneOf(State.class));

  private final Channel link;
  private final int attempt;
  private final Exposure exposure;
  private final Open open;
  /** Non-null on a REPLAY link. */
  private final AckSender acks;
  /** The relay's socket to the app; null on the direct path. */
  private Channel app;
  private int localPort = -1;
  /** On the direct path: the client side's address the app's connection comes from; else null. */
  private volatile InetSocketAddress directFrom;
  /** Client bytes that arrived before the app was connected, oldest first; null once passed on. */
  private java.util.ArrayDeque<ByteBuf> early = new java.util.ArrayDeque<>();
  private long earlyBytes;

  /** The client side's FIN arrived. */
  private boolean linkFinReceived;
  /** ... and the app's output is shut down, after everything before the FIN was written to it. */
  private boolean appOutputDone;
  /** The app shut its output (end of stream read). */
  private boolean appInputDone;
  /** The app's connection failed (reset, write error, closed abruptly). */
  private boolean appFailed;

  private String appFailure;
  /** The app alive and its end of stream passed on as FIN. */
  private boolean finSent;

  private boolean probing;
  private ScheduledFuture<?> probeGrace;
  /** What the app read of the client's bytes since it last answered (relayed; on the direct path the client side's). */
  private final UnansweredInput input = new UnansweredInput();
  /** The app's end of stream came after it had read bytes it never answered: told with the loss if it is dead. */
  private boolean endedUnanswered;

  ServerConnection(NettyRelay relay, Open open, Channel link, Exposure exposure) {
    super(relay, open.connectionId(), open.service(), open.client(), Side.SERVER, link.eventLoop());
    this.link = link;
    this.attempt = open.attempt();
    this.exposure = exposure;
    this.open = open;
    this.recovery = open.policy();
    this.acks = open.policy() == RecoveryPolicy.REPLAY ? new AckSender(link) : null;
  }

  @Override
  Map<State, Set<State>> legalTransitions() {
    return TRANSITIONS;
  }

  @Override
  Logger log() {
    return log;
  }

  @Override
  boolean direct() {
    return directFrom != null && state() == State.ATTACHED;
  }

  /** A re-attached client's attempt (attempt > 1) is worth an operator's line even when all goes well. */
  @Override
  boolean isRoutineAttach() {
    return attempt == 1;
  }

  @Override
  String describe() {
    return super.describe() + " attempt " + attempt;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Connects to the app (register, bind a local port and map it to the client, connect), or grants the direct path. */
  void start() {
    relay.register(this);
    if (open.direct() && reachable(open.directFrom(), exposure.appListener())) {
      startDirect();
      return;
    }
    ChannelFuture registered = relay.appBootstrap(loop).handler(new AppHandler()).register();
    app = registered.channel();
    registered.addListener((ChannelFutureListener) this::onAppRegistered);
  }

  private void onAppRegistered(ChannelFuture registered) {
    if (!registered.isSuccess()) {
      refuse("cannot open a socket to the app (" + ClientConnection.message(registered.cause()) + ")");
      return;
    }
    InetSocketAddress target = exposure.appListener();
    InetAddress localIp = target.getAddress().isLoopbackAddress() ? target.getAddress() : null;
    app.bind(new InetSocketAddress(localIp, 0))
        .addListener(
            (ChannelFutureListener)
                bound -> {
                  if (isClosed()) {
                    app.close();
                  } else if (!bound.isSuccess()) {
                    refuse("cannot bind a local port (" + ClientConnection.message(bound.cause()) + ")");
                  } else {
                    localPort = ((InetSocketAddress) app.localAddress()).getPort();
                    relay.mapLocalPort(localPort, client);
                    announce();
                    SelfConnections.connect(app, target).addListener((ChannelFutureListener) this::onAppConnected);
                  }
                });
  }

  /**
   * Whether a connection from {@code from} can reach the app's listener: any address but a loopback one can be
   * (as far as this side can tell), a loopback one only from this host.
   */
  private static boolean reachable(InetSocketAddress from, InetSocketAddress appListener) {
    return !appListener.getAddress().isLoopbackAddress() || from.getAddress().isLoopbackAddress();
  }

  /** The direct path: the client side's connection is announced to the app, then the client side connects. */
  private void startDirect() {
    directFrom = open.directFrom();
    early = null;
    relay.mapPeer(directFrom, client);
    try {
      exposure.announcer().connectingFrom(directFrom, client);
    } catch (RuntimeException e) {
      log.debug("{}: announcing the client to the app failed (its accept will ask): {}", describe(), e.toString());
    }
    link.writeAndFlush(LinkFrames.encode(link.alloc(), new Opened(exposure.appListener())), link.voidPromise());
    transitionTo(
        State.ATTACHED,
        relay.nanoTime(),
        "direct: the client's daemon connects to app at "
            + RelayListener.describe(exposure.appListener())
            + " from "
            + RelayListener.describe(directFrom)
            + " for client "
            + RelayListener.describe(client)
            + "; this side keeps the link for the connection's control"
            + (open.replay() ? "; the client side replays its stream from byte 0" : ""));
  }

  /** Before connecting: the app's shim learns the real client of the connection it is about to accept. */
  private void announce() {
    try {
      exposure.announcer().connecting(localPort, client);
    } catch (RuntimeException e) {
      log.debug("{}: announcing the client to the app failed (its accept will ask): {}", describe(), e.toString());
    }
  }

  private void onAppConnected(ChannelFuture connected) {
    if (isClosed()) {
      Transport.reset(app);
      return;
    }
    if (!connected.isSuccess()) {
      refuse(
          "app listener "
              + RelayListener.describe(exposure.appListener())
              + " refused ("
              + ClientConnection.message(connected.cause())
              + ")");
      return;
    }
    link.writeAndFlush(LinkFrames.encode(link.alloc(), Opened.RELAYED), link.voidPromise());
    transitionTo(
        State.ATTACHED,
        relay.nanoTime(),
        "to app at "
            + RelayListener.describe(exposure.appListener())
            + " from local port "
            + localPort
            + " for client "
            + RelayListener.describe(client)
            + " (link from "
            + RelayListener.describe((InetSocketAddress) link.remoteAddress())
            + ")"
            + (open.replay()
                ? "; the client side replays its stream from byte 0 and drops the first "
                    + open.skip()
                    + " bytes of the app's output"
                : ""));
    app.config().setAutoRead(link.isWritable());
    passOnEarlyBytes();
  }

  /** Writes the client bytes that came ahead of the app's connection, and reads the link again if it was paused. */
  private void passOnEarlyBytes() {
    java.util.ArrayDeque<ByteBuf> arrived = early;
    early = null;
    earlyBytes = 0;
    for (ByteBuf buf = arrived.poll(); buf != null; buf = arrived.poll()) {
      onLinkData(buf);
    }
    onLinkReadComplete();
    link.config().setAutoRead(app.isWritable());
  }

  private void refuse(String message) {
    if (isClosed()) {
      return;
    }
    link.writeAndFlush(LinkFrames.encode(link.alloc(), new Refused(RefusalReason.APP_REFUSED, message)))
        .addListener(ChannelFutureListener.CLOSE);
    transitionTo(State.CLOSED, relay.nanoTime(), "refused: " + message);
    release();
    if (app != null) {
      app.close();
    }
  }

  /** The app ended its side (EOF or failure): ask whether it is alive, at most one question at a time. */
  private void askProbe() {
    if (probing || isClosed()) {
      return;
    }
    probing = true;
    CompletableFuture<Boolean> answer = ask(exposure.probe());
    long grace = relay.config().livenessGrace().toNanos();
    probeGrace =
        loop.schedule(
            () ->
                onProbeAnswer(
                    true,
                    "no answer from the liveness probe within "
                        + TimeUnit.NANOSECONDS.toMillis(grace)
                        + " ms: app taken as alive"),
            grace,
            TimeUnit.NANOSECONDS);
    answer.whenComplete(
        (alive, error) ->
            execute(
                () ->
                    onProbeAnswer(
                        error != null || alive == null || alive,
                        error != null || alive == null
                            ? "liveness probe failed ("
                                + ClientConnection.message(error)
                                + "): app taken as alive"
                            : null)));
  }

  private void onProbeAnswer(boolean alive, String note) {
    if (!probing) {
      return;
    }
    probing = false;
    if (probeGrace != null) {
      probeGrace.cancel(false);
      probeGrace = null;
    }
    if (isClosed()) {
      return;
    }
    if (note != null) {
      log.warn("{}: {}", describe(), note);
    }
    if (!alive && endedUnanswered && !appFailed) {
      // The client side ends its client's connection instead of re-attaching it: no instance will answer that input.
      abort(
          AbortReason.SERVER_LOST_UNANSWERED,
          "server app died after reading bytes of its client's that it never answered (a request in flight)",
          "server app died with a request in flight; client side ends its client's connection");
    } else if (!alive) {
      abort(AbortReason.SERVER_LOST, "server app died", "server app died; client side holds");
    } else if (appFailed) {
      abort(AbortReason.RESET, appFailure, appFailure + "; client reset");
    } else if (appInputDone && !finSent) {
      link.writeAndFlush(LinkFrames.encode(link.alloc(), Fin.INSTANCE), link.voidPromise());
      finSent = true;
      log.debug("{}: server app finished sending", describe());
      closeIfBothDone();
    }
  }

  private void abort(AbortReason reason, String message, String closeReason) {
    link.writeAndFlush(LinkFrames.encode(link.alloc(), new Abort(reason, message)))
        .addListener(ChannelFutureListener.CLOSE);
    transitionTo(State.CLOSED, relay.nanoTime(), closeReason);
    release();
    Transport.reset(app);
  }

  private void closeIfBothDone() {
    if (isClosed() || !finSent || !appOutputDone) {
      return;
    }
    transitionTo(State.CLOSED, relay.nanoTime(), NORMAL_CLOSE);
    release();
    if (app != null) {
      app.close();
    }
    link.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /** What happens to the app's connection when this side resets it, in the log's words. */
  private String appReset() {
    return directFrom == null
        ? "server app connection reset"
        : "the client's daemon resets the server app's connection (direct path)";
  }

  private void closeWithReset(String reason) {
    if (isClosed()) {
      return;
    }
    transitionTo(State.CLOSED, relay.nanoTime(), reason);
    release();
    Transport.reset(app);
    link.close();
  }

  @Override
  void shutdown() {
    closeWithReset("relay closing; " + appReset());
  }

  private void release() {
    if (early != null) {
      for (ByteBuf buf = early.poll(); buf != null; buf = early.poll()) {
        buf.release();
      }
      earlyBytes = 0;
    }
    if (acks != null) {
      acks.cancel();
    }
    if (probeGrace != null) {
      probeGrace.cancel(false);
      probeGrace = null;
    }
    if (localPort > 0) {
      relay.unmapLocalPort(localPort, client);
    }
    if (directFrom != null) {
      relay.unmapPeer(directFrom, client);
    }
  }

  // ---------------------------------------------------------------- app events

  private void onAppData(ByteBuf buf) {
    input.answered();
    if (state() != State.ATTACHED || finSent || buf.readableBytes() == 0) {
      buf.release();
      return;
    }
    bytesToClient += buf.readableBytes();
    LinkFrames.writeAppData(link, buf);
    if (!link.isWritable()) {
      app.config().setAutoRead(false);
    }
  }

  private void onAppEof() {
    if (isClosed() || appInputDone) {
      return;
    }
    appInputDone = true;
    if (app != null) {
      endedUnanswered = input.readUnansweredAtEnd(app, relay.nanoTime());
    }
    askProbe();
  }

  private void onAppFailure(Throwable cause) {
    if (isClosed() || appFailed || state() != State.ATTACHED) {
      return;
    }
    appFailed = true;
    appFailure =
        cause == null
            ? "server app connection closed abruptly"
            : "server app reset the connection (" + ClientConnection.message(cause) + ")";
    Transport.reset(app);
    askProbe();
  }

  // ---------------------------------------------------------------- link events (from ServerLinkHandler)

  void onLinkData(ByteBuf buf) {
    if (directFrom != null) {
      buf.release();
      log.warn("{}: DATA on a direct link: closing it", describe());
      closeWithReset("protocol error (DATA on a direct link)");
      return;
    }
    if (state() == State.CONNECTING && early != null) {
      early.add(buf);
      earlyBytes += buf.readableBytes();
      if (earlyBytes >= relay.config().holdBufferBytes()) {
        link.config().setAutoRead(false); // read again once the app is connected
      }
      return;
    }
    if (state() != State.ATTACHED || appFailed || linkFinReceived) {
      buf.release();
      return;
    }
    bytesToServer += buf.readableBytes();
    input.written(buf.readableBytes(), relay.nanoTime());
    if (acks != null) {
      acks.passedOn(buf.readableBytes());
    }
    app.write(buf, app.voidPromise());
    if (!app.isWritable()) {
      link.config().setAutoRead(false);
    }
  }

  void onLinkReadComplete() {
    if (state() == State.ATTACHED && !appFailed && app != null) {
      app.flush();
      if (acks != null) {
        acks.readComplete();
      }
    }
  }

  void onLinkWritabilityChanged() {
    if (state() == State.ATTACHED && !appFailed && app != null) {
      app.config().setAutoRead(link.isWritable());
    }
  }

  void onLinkFrame(Frame frame) {
    if (isClosed()) {
      return;
    }
    if (frame instanceof Fin) {
      onLinkFin();
    } else if (frame instanceof Abort abort) {
      closeWithReset(abort.message() + "; " + appReset());
    } else if (frame instanceof Ack ack) {
      peerAcknowledged = Math.max(peerAcknowledged, ack.received());
    } else if (frame instanceof AppEnd end && directFrom != null) {
      onDirectAppEnd(end);
    } else {
      log.warn("{}: unexpected {} on the link: closing it", describe(), frame);
      closeWithReset("protocol error (unexpected " + frame + "); " + appReset());
    }
  }

  private void onLinkFin() {
    if (state() != State.ATTACHED || linkFinReceived) {
      return;
    }
    linkFinReceived = true;
    if (appFailed) {
      return;
    }
    if (directFrom != null) {
      onAppOutputShut(); // the client side shut the app's input itself, after its last bytes
      return;
    }
    shutdownAppOutputAfterPendingWrites(app, this::onAppOutputShut);
  }

  /** The client side's report that its direct connection to the app ended: judged as an end seen here. */
  private void onDirectAppEnd(AppEnd end) {
    if (!end.reset()) {
      endedUnanswered = end.unanswered();
      onAppEof();
    } else if (!isClosed() && !appFailed && state() == State.ATTACHED) {
      appFailed = true;
      appFailure = "server app connection failed at the client's daemon (" + end.message() + ")";
      askProbe();
    }
  }

  private void onAppOutputShut() {
    if (isClosed()) {
      return;
    }
    appOutputDone = true;
    log.debug("{}: client finished sending; server app's input closed", describe());
    closeIfBothDone();
  }

  void onLinkClosed() {
    if (isClosed()) {
      return;
    }
    if (finSent && linkFinReceived) {
      closeIfBothDone(); // normal end; completes once the app's output is shut
      return;
    }
    closeWithReset(
        "link from "
            + RelayListener.describe((InetSocketAddress) link.remoteAddress())
            + " closed (client side lost or gave up); "
            + appReset());
  }

  /** On the relay's connection to the server app. */
  private final class AppHandler extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf buf) {
        onAppData(buf);
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (state() == State.ATTACHED) {
        link.flush();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        onAppEof();
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (state() == State.ATTACHED) {
        link.config().setAutoRead(app.isWritable());
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      onAppFailure(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      onAppFailure(null);
    }
  }
}
