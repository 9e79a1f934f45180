package dev.armor.relay.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spare links: links to a server daemon connected ahead of need, so that a new client connection writes its OPEN
 * (and its first bytes) on an established link instead of waiting for a TCP handshake and for the server daemon to
 * accept and set up the link: on the loaded 2-core machine that set-up was 0.6 to 1.6 ms of a connect's first byte.
 *
 * <p>Policy. After a connection attached to a daemon (OPENED), its event loop keeps {@link #SPARES} spare link to
 * that daemon, opened in the background; the next connection on that loop to that daemon takes it, and its own
 * OPENED opens the next spare. So spares follow traffic: a daemon that was never attached to, or that refuses or
 * fails, gets none (no extra connects to a dead address), and a spare nobody took within {@link #IDLE_NANOS} is
 * closed and not replaced (the server side closes a link that sends no OPEN within
 * {@link ServerLinkHandler#OPEN_TIMEOUT_SECONDS}). A spare that the server daemon closed is dropped when that is
 * seen; one that turns out dead when taken costs its connection a fresh attempt at once (see
 * {@link ClientConnection}).
 *
 * <p>Threads. Each event loop has its own spares (a connection's sockets all live on its loop), touched only on that
 * loop; only the map of loops is shared.
 */
final class LinkPool {

  private static final Logger log = LoggerFactory.getLogger(LinkPool.class);

  /** Spare links per (event loop, server daemon): one covers a client that connects again and again. */
  static final int SPARES = 1;

  /** An unused spare is closed after this: well inside the server side's OPEN timeout. */
  static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(ServerLinkHandler.OPEN_TIMEOUT_SECONDS) / 2;

  private final NettyRelay relay;
  private final Map<EventLoop, Map<InetSocketAddress, Spares>> byLoop = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong taken = new java.util.concurrent.atomic.AtomicLong();

  LinkPool(NettyRelay relay) {
    this.relay = relay;
  }

  /**
   * A connected spare link to {@code daemon} on {@code loop}, with an empty pipeline for the caller's handlers; null
   * when there is none. Call on {@code loop}.
   */
  Channel take(EventLoop loop, InetSocketAddress daemon) {
    Spares spares = spares(loop, daemon, false);
    if (spares == null) {
      return null;
    }
    for (Spare spare = spares.idle.poll(); spare != null; spare = spares.idle.poll()) {
      spare.expiry.cancel(false);
      Channel link = spare.channel;
      if (link.isActive()) {
        link.pipeline().remove(SpareHandler.class);
        taken.incrementAndGet();
        return link;
      }
      link.close();
    }
    return null;
  }

  /** Opens spare links to {@code daemon} on {@code loop} up to {@link #SPARES}. Call on {@code loop}. */
  void refill(EventLoop loop, InetSocketAddress daemon) {
    Spares spares = spares(loop, daemon, true);
    while (spares.idle.size() + spares.connecting < SPARES) {
      spares.connecting++;
      ChannelFuture connect =
          SelfConnections.connect(relay.linkBootstrap(loop).handler(relay.secured(new SpareHandler(spares))), daemon);
      connect.addListener((ChannelFutureListener) done -> onConnected(spares, done));
    }
  }

  private void onConnected(Spares spares, ChannelFuture done) {
    spares.connecting--;
    Channel link = done.channel();
    if (!done.isSuccess()) {
      log.debug("spare link to {} not opened: {}", spares.daemon, ClientConnection.message(done.cause()));
      return;
    }
    if (!link.isActive()) {
      return;
    }
    Spare spare = new Spare(link);
    spare.expiry =
        link.eventLoop()
            .schedule(
                () -> {
                  if (spares.idle.remove(spare)) {
                    link.close(); // unused: traffic to this daemon has stopped
                  }
                },
                IDLE_NANOS,
                TimeUnit.NANOSECONDS);
    spares.idle.add(spare);
  }

  /** Spare links taken so far (tests). */
  long taken() {
    return taken.get();
  }

  /** Idle spare links now, over all loops (tests; asks each loop). */
  int idle() {
    int total = 0;
    for (Map.Entry<EventLoop, Map<InetSocketAddress, Spares>> entry : byLoop.entrySet()) {
      Map<InetSocketAddress, Spares> ofLoop = entry.getValue();
      total += entry.getKey()
          .submit(() -> ofLoop.values().stream().mapToInt(s -> s.idle.size()).sum())
          .syncUninterruptibly()
          .getNow();
    }
    return total;
  }

  private Spares spares(EventLoop loop, InetSocketAddress daemon, boolean create) {
    Map<InetSocketAddress, Spares> ofLoop = byLoop.computeIfAbsent(loop, l -> new HashMap<>());
    return create ? ofLoop.computeIfAbsent(daemon, Spares::new) : ofLoop.get(daemon);
  }

  /** The spares of one (loop, daemon); confined to the loop. */
  private static final class Spares {
    final InetSocketAddress daemon;
    final ArrayDeque<Spare> idle = new ArrayDeque<>();
    int connecting;

    Spares(InetSocketAddress daemon) {
      this.daemon = daemon;
    }
  }

  private static final class Spare {
    final Channel channel;
    ScheduledFuture<?> expiry;

    Spare(Channel channel) {
      this.channel = channel;
    }
  }

  /** While a link is spare: the server side sends nothing before OPEN; a close drops it from the pool. */
  private static final class SpareHandler extends ChannelInboundHandlerAdapter {
    private final Spares spares;

    SpareHandler(Spares spares) {
      this.spares = spares;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      spares.idle.removeIf(spare -> spare.channel == ctx.channel());
    }
  }
}
