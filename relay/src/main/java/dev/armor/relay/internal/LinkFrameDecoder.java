package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * Splits a link's byte stream into {@link LinkFrames} frames without copying app bytes: DATA payloads are passed
 * on as they arrive, as retained slices of the inbound buffer (a DATA frame may come out as several slices);
 * control frames (small, rare) are accumulated and passed on as {@link LinkFrames.Frame} objects.
 *
 * <p>Unlike {@code ByteToMessageDecoder} there is no cumulation buffer: only the 5-byte header and control bodies
 * are ever assembled. Malformed input throws {@link CorruptedFrameException}, which reaches the link handler's
 * {@code exceptionCaught} (it closes the link).
 */
final class LinkFrameDecoder extends ChannelInboundHandlerAdapter {

  private enum Phase {
    /** Reading the 5-byte header (it may arrive split). */
    HEADER,
    /** Accumulating a control frame's body. */
    CONTROL_BODY,
    /** Passing a DATA frame's payload on. */
    DATA
  }

  private Phase phase = Phase.HEADER;
  private int headerBytesRead;
  private byte type;
  private int length;
  private int remaining;
  private ByteBuf body;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      while (in.isReadable() && ctx.channel().isOpen()) {
        switch (phase) {
          case HEADER -> readHeader(ctx, in);
          case CONTROL_BODY -> readControlBody(ctx, in);
          case DATA -> readData(ctx, in);
        }
      }
    } finally {
      in.release();
    }
  }

  private void readHeader(ChannelHandlerContext ctx, ByteBuf in) {
    if (headerBytesRead == 0 && in.readableBytes() >= LinkFrames.HEADER_LENGTH) {
      type = in.readByte();
      length = in.readInt();
    } else {
      while (headerBytesRead < LinkFrames.HEADER_LENGTH && in.isReadable()) {
        byte b = in.readByte();
        if (headerBytesRead == 0) {
          type = b;
          length = 0;
        } else {
          length = (length << 8) | (b & 0xFF);
        }
        headerBytesRead++;
      }
      if (headerBytesRead < LinkFrames.HEADER_LENGTH) {
        return;
      }
    }
    headerBytesRead = 0;
    if (type < LinkFrames.OPEN || type > LinkFrames.APP_END) {
      throw new CorruptedFrameException("unknown frame type " + type);
    }
    if (length < 0) {
      throw new CorruptedFrameException("frame type " + type + " with negative length " + length);
    }
    if (type == LinkFrames.DATA) {
      if (length > 0) {
        remaining = length;
        phase = Phase.DATA;
      }
      return;
    }
    if (length > LinkFrames.MAX_CONTROL_BODY) {
      throw new CorruptedFrameException(
          "control frame type " + type + " of " + length + " bytes exceeds " + LinkFrames.MAX_CONTROL_BODY);
    }
    if (length == 0) {
      emitControl(ctx, Unpooled.EMPTY_BUFFER);
      return;
    }
    body = ctx.alloc().heapBuffer(length);
    phase = Phase.CONTROL_BODY;
  }

  private void readControlBody(ChannelHandlerContext ctx, ByteBuf in) {
    int n = Math.min(length - body.readableBytes(), in.readableBytes());
    body.writeBytes(in, n);
    if (body.readableBytes() == length) {
      ByteBuf complete = body;
      body = null;
      phase = Phase.HEADER;
      emitControl(ctx, complete);
    }
  }

  private void readData(ChannelHandlerContext ctx, ByteBuf in) {
    int n = Math.min(remaining, in.readableBytes());
    remaining -= n;
    if (remaining == 0) {
      phase = Phase.HEADER;
    }
    ctx.fireChannelRead(in.readRetainedSlice(n));
  }

  private void emitControl(ChannelHandlerContext ctx, ByteBuf complete) {
    LinkFrames.Frame frame;
    try {
      frame = LinkFrames.decode(type, complete);
    } finally {
      complete.release();
    }
    ctx.fireChannelRead(frame);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (body != null) {
      body.release();
      body = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    handlerRemoved(ctx);
    ctx.fireChannelInactive();
  }
}
