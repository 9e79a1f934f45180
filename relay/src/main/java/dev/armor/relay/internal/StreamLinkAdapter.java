package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * First handler of a multiplexed link (an HTTP/2 stream's child channel, see {@link SharedLinks}): makes the stream
 * look like a dedicated link's byte stream to the link handlers behind it. Inbound, a DATA frame's content goes on as
 * a plain {@link ByteBuf} (no copy) and everything else is dropped; outbound, every {@link ByteBuf} becomes a DATA
 * frame (the same buffer), the first one preceded by the stream's HEADERS: the request headers on the client side
 * (they open the stream), the response headers on the server side. The headers carry nothing of Armor's: the link
 * protocol ({@link LinkFrames}) runs unchanged inside the stream's DATA.
 *
 * <p>A stream is never ended with END_STREAM: the link protocol says FIN itself, and closing the child channel (a
 * RST_STREAM) is a link's close. A reset arriving from the other side closes the child channel once what arrived
 * before it has been read, as a dedicated link's end of stream does.
 */
final class StreamLinkAdapter extends ChannelDuplexHandler {

  private static final Http2Headers REQUEST =
      new DefaultHttp2Headers().method("POST").scheme("http").path("/armor/link").authority("armor");
  private static final Http2Headers RESPONSE = new DefaultHttp2Headers().status("200");

  private final boolean client;
  private boolean headersSent;
  private SharedLinks.StreamEnds ends;

  StreamLinkAdapter(boolean client) {
    this.client = client;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2DataFrame data) {
      ByteBuf content = data.content();
      if (content.isReadable()) {
        ctx.fireChannelRead(content);
      } else {
        content.release();
      }
    } else {
      ReferenceCountUtil.release(msg); // HEADERS (nothing in them for us), unknown frames
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof Http2ResetFrame) {
      return; // the stream's close follows, as the channel's inactive event, after what is queued before it
    }
    ctx.fireUserEventTriggered(evt);
  }

  /** See {@link SharedLinks.StreamEnds#flushSoon}: the window this read gives back must reach the sender. */
  @Override
  public void read(ChannelHandlerContext ctx) {
    ctx.read();
    if (ends == null) {
      Channel parent = ctx.channel().parent();
      ends = parent == null ? null : parent.pipeline().get(SharedLinks.StreamEnds.class);
      if (ends == null) {
        return;
      }
    }
    ends.flushSoon(ctx.channel().parent());
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      if (!headersSent) {
        headersSent = true;
        ctx.write(new DefaultHttp2HeadersFrame(client ? REQUEST : RESPONSE), ctx.voidPromise());
      }
      ctx.write(new DefaultHttp2DataFrame(buf), promise);
    } else {
      ctx.write(msg, promise);
    }
  }
}
