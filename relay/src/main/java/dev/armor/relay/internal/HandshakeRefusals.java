package dev.armor.relay.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handler of a link the data port accepted: a peer that fails the handshake (no certificate, another
 * cluster's, not a node's, garbage, silence past the handshake timeout) is closed, and said in the log at most once a
 * second with how many there were, so that a flood of them costs the log one line a second.
 */
final class HandshakeRefusals extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(HandshakeRefusals.class);

  /** The relay's count and last log time, shared by its links. */
  static final class Log {
    private static final long INTERVAL_NANOS = 1_000_000_000L;
    private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    void refused(Object peer, Throwable cause) {
      long now = System.nanoTime();
      long last = lastLogged.get();
      if (now - last < INTERVAL_NANOS || !lastLogged.compareAndSet(last, now)) {
        unlogged.incrementAndGet();
        return;
      }
      long skipped = unlogged.getAndSet(0);
      log.warn("the data port refused a link from {}: no TLS session with a node certificate of this cluster ({}){}",
          peer, ClientConnection.message(cause),
          skipped == 0 ? "" : " (and " + skipped + " other refusal(s) since the last one logged)");
    }
  }

  private final Log refusals;

  HandshakeRefusals(Log refusals) {
    this.refusals = refusals;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof SslHandshakeCompletionEvent done) {
      if (done.isSuccess()) {
        ctx.pipeline().remove(this);
      } else {
        refusals.refused(ctx.channel().remoteAddress(), done.cause());
        ctx.close();
        return;
      }
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (ctx.pipeline().get(HandshakeRefusals.class) == this && !ctx.channel().isActive()) {
      return; // the handshake's failure, said once in userEventTriggered
    }
    ctx.fireExceptionCaught(cause);
  }
}
