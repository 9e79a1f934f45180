package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

/**
 * First handler of a connection accepted at the data address: tells a dedicated link from a shared connection of
 * multiplexed links by its first byte (an HTTP/2 connection preface starts with 'P'; a link's first frame, OPEN,
 * with its type, 1), so a daemon accepts both whatever its own {@code links} setting. A dedicated link keeps the
 * pipeline it was given ({@link LinkFrameDecoder}, {@link ServerLinkHandler}); a shared connection gets the HTTP/2
 * codec instead ({@link SharedLinks#serve}). Removes itself after the first read.
 */
final class LinkProtocolSniffer extends ChannelInboundHandlerAdapter {

  /** The first byte of the HTTP/2 client connection preface ("PRI * HTTP/2.0..."). */
  private static final byte PREFACE_START = 'P';

  private final NettyRelay relay;

  LinkProtocolSniffer(NettyRelay relay) {
    this.relay = relay;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    ChannelPipeline pipeline = ctx.pipeline();
    if (msg instanceof ByteBuf in && in.isReadable() && in.getByte(in.readerIndex()) == PREFACE_START) {
      pipeline.remove(LinkFrameDecoder.class);
      pipeline.remove(ServerLinkHandler.class);
      SharedLinks.serve(pipeline, relay);
    }
    pipeline.remove(this);
    ctx.fireChannelRead(msg);
  }
}
