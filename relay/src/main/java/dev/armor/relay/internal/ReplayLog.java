package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;

/**
 * Client side: every byte the client app sent since its connection's last fresh attach, to replay to a restarted
 * server from byte 0. Bounded by {@code replay-log-bytes}.
 *
 * <p>Design note. Bytes are copied into chunks (4 KiB, doubling to 64 KiB) rather than retaining the app's inbound
 * buffers: a pooled read buffer is often much larger than what it holds, so retaining it would make the bound
 * meaningless; the copy is the one extra step on the hot path (the inbound buffer itself still goes to the link
 * uncopied). A replay writes retained slices of the chunks: no copy there. Confined to the connection's loop.
 */
final class ReplayLog {

  static final int MIN_CHUNK = 4 * 1024;
  static final int MAX_CHUNK = 64 * 1024;

  private final ByteBufAllocator alloc;
  private final long bound;
  private final List<ByteBuf> chunks = new ArrayList<>();
  private long size;

  ReplayLog(ByteBufAllocator alloc, long bound) {
    this.alloc = alloc;
    this.bound = bound;
  }

  long size() {
    return size;
  }

  /** Copies {@code buf}'s readable bytes (indices unchanged) to the end; false, copying nothing, past the bound. */
  boolean append(ByteBuf buf) {
    int length = buf.readableBytes();
    if (size + length > bound) {
      return false;
    }
    int index = buf.readerIndex();
    while (length > 0) {
      ByteBuf tail = chunks.isEmpty() ? null : chunks.get(chunks.size() - 1);
      if (tail == null || !tail.isWritable()) {
        int capacity = (int) Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.min(size, Integer.MAX_VALUE)));
        tail = alloc.buffer(capacity, capacity);
        chunks.add(tail);
      }
      int n = Math.min(length, tail.writableBytes());
      tail.writeBytes(buf, index, n);
      index += n;
      length -= n;
      size += n;
    }
    return true;
  }

  /** Writes (does not flush) the whole log on {@code link} as DATA frames; the log keeps its bytes. */
  void writeTo(Channel link) {
    for (ByteBuf chunk : chunks) {
      if (chunk.isReadable()) {
        LinkFrames.writeData(link, chunk.retainedSlice());
      }
    }
  }

  /** Writes (does not flush) the whole log on {@code socket} as plain bytes (the direct path); the log keeps them. */
  void writeRawTo(Channel socket) {
    for (ByteBuf chunk : chunks) {
      if (chunk.isReadable()) {
        socket.write(chunk.retainedSlice(), socket.voidPromise());
      }
    }
  }

  void release() {
    for (ByteBuf chunk : chunks) {
      chunk.release();
    }
    chunks.clear();
    size = 0;
  }
}
