package dev.armor.relay.internal;

import dev.armor.security.PendingHandshakes;
import dev.armor.security.RefusalLog;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * After the TLS handler of a link the data port accepted: a peer that fails the handshake (no certificate, another
 * cluster's, not a node's, garbage, silence past the handshake timeout) is closed, and said in the log at most once a
 * second with how many there were, so that a flood of them costs the log one line a second. Until the handshake is
 * done, the connection counts among the data port's {@link PendingHandshakes}.
 */
final class HandshakeRefusals extends ChannelInboundHandlerAdapter {

  private final RefusalLog refusals;
  private final PendingHandshakes pending;
  private java.net.SocketAddress counted;

  /** {@code peer}'s connection, already admitted by {@code pending}: this handler says when it is done. */
  HandshakeRefusals(RefusalLog refusals, PendingHandshakes pending, java.net.SocketAddress peer) {
    this.refusals = refusals;
    this.pending = pending;
    this.counted = peer;
  }

  /** Removed on the handshake's success, or with the rest of the pipeline when the connection closes. */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (counted != null) {
      pending.done(counted);
      counted = null;
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof SslHandshakeCompletionEvent done) {
      if (done.isSuccess()) {
        ctx.pipeline().remove(this);
      } else {
        refusals.refused(ctx.channel().remoteAddress(),
            "no TLS session with a node certificate of this cluster (" + ClientConnection.message(done.cause()) + ")");
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
