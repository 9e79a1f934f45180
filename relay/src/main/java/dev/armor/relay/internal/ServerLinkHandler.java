package dev.armor.relay.internal;

import dev.armor.relay.RelayListener;
import dev.armor.relay.internal.LinkFrames.Frame;
import dev.armor.relay.internal.LinkFrames.Open;
import dev.armor.relay.internal.LinkFrames.RefusalReason;
import dev.armor.relay.internal.LinkFrames.Refused;
import dev.armor.relay.internal.NettyRelay.Exposure;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server side: the handler of a link accepted at the relay's data address. Waits for OPEN (a link that sends
 * nothing else first, or nothing within {@link #OPEN_TIMEOUT_SECONDS}, is closed), refuses services not exposed
 * here, and otherwise hands the link's events to the {@link ServerConnection} it creates. After a refusal, what the
 * client side had already sent behind its OPEN (its app's first bytes) is dropped while the link closes.
 */
final class ServerLinkHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ServerLinkHandler.class);
  static final long OPEN_TIMEOUT_SECONDS = 10;

  private final NettyRelay relay;
  private ServerConnection connection;
  private boolean refused;
  private ScheduledFuture<?> openTimeout;

  ServerLinkHandler(NettyRelay relay) {
    this.relay = relay;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    openTimeout =
        ctx.executor()
            .schedule(
                () -> {
                  if (connection == null && ctx.channel().isOpen()) {
                    refused(ctx, "a link that sent no OPEN within " + OPEN_TIMEOUT_SECONDS + " s (closed)");
                    ctx.close();
                  }
                },
                OPEN_TIMEOUT_SECONDS,
                TimeUnit.SECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (connection != null) {
      if (msg instanceof ByteBuf buf) {
        connection.onLinkData(buf);
      } else if (msg instanceof Frame frame) {
        connection.onLinkFrame(frame);
      } else {
        ReferenceCountUtil.release(msg);
      }
    } else if (msg instanceof Open open && !refused) {
      onOpen(ctx, open);
    } else if (refused) {
      ReferenceCountUtil.release(msg); // sent behind the refused OPEN
    } else {
      ReferenceCountUtil.release(msg);
      refused(ctx, "a link that sent " + (msg instanceof ByteBuf ? "DATA" : msg) + " before OPEN (closed)");
      ctx.close();
    }
  }

  private void onOpen(ChannelHandlerContext ctx, Open open) {
    openTimeout.cancel(false);
    if (open.version() < LinkFrames.MIN_VERSION || open.version() > LinkFrames.VERSION) {
      refuse(ctx, open, RefusalReason.BAD_OPEN, "link protocol version " + open.version() + " not supported");
      return;
    }
    Exposure exposure = relay.exposure(open.service());
    if (exposure == null) {
      refuse(ctx, open, RefusalReason.NOT_EXPOSED, "");
      return;
    }
    connection = new ServerConnection(relay, open, ctx.channel(), exposure);
    connection.start();
  }

  private void refuse(ChannelHandlerContext ctx, Open open, RefusalReason reason, String message) {
    refused = true;
    log.info(
        "connection {} attempt {} to {} from daemon {} refused: {}{}",
        open.connectionId(),
        open.attempt(),
        open.service(),
        peer(ctx),
        reason.words,
        message.isEmpty() ? "" : " (" + message + ")");
    ctx.writeAndFlush(LinkFrames.encode(ctx.alloc(), new Refused(reason, message)))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (connection != null) {
      connection.onLinkReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (connection != null) {
      connection.onLinkWritabilityChanged();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedFrameException) {
      refused(ctx, "a link with a protocol error: " + cause.getMessage() + " (closed)");
    } else if (connection == null || !connection.isClosed()) {
      log.debug("link from {} failed: {}", peer(ctx), ClientConnection.message(cause));
    }
    ctx.close();
  }

  /**
   * A peer's link refused for what it sent: said at most once a second per relay, with a count of the rest (a peer that
   * sends garbage on link after link must not storm the log; docs/SECURITY.md).
   */
  private void refused(ChannelHandlerContext ctx, String why) {
    relay.linkRefusals().refused(peer(ctx), why);
  }

  /** Removed from a connection that turned out to be a shared one ({@link LinkProtocolSniffer}). */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (openTimeout != null && connection == null) {
      openTimeout.cancel(false);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (openTimeout != null) {
      openTimeout.cancel(false);
    }
    if (connection != null) {
      connection.onLinkClosed();
    }
  }

  private static String peer(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress a
        ? RelayListener.describe(a)
        : String.valueOf(ctx.channel().remoteAddress());
  }
}
