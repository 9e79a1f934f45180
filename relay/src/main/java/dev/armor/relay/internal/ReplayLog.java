package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Client side: every byte the client app sent since its connection's last fresh attach, to replay to a restarted
 * server from byte 0, and where each turn of the conversation began. Bounded by {@code replay-log-bytes}. Also
 * keeps the first bytes a client app was delivered ({@link StreamDigest}), where it is only a byte store.
 *
 * <p>Design note. Bytes are copied into chunks (4 KiB, doubling to 64 KiB) rather than retaining the app's inbound
 * buffers: a pooled read buffer is often much larger than what it holds, so retaining it would make the bound
 * meaningless; the copy is the one extra step on the hot path (the inbound buffer itself still goes to the link
 * uncopied). A replay writes retained slices of the chunks: no copy there. Confined to the connection's loop.
 *
 * <p>Turns. A replay must not hand the new instance a request before it has shown that it answered the ones before
 * it as the lost instance did: otherwise a server whose output differs early (a timestamp, a session id) would
 * execute the connection's whole history (every insert of a database session, again) before anything could tell.
 * So each time the client sends after new output reached it, a gate is recorded: "these bytes followed the first
 * {@code output} bytes". The replay sends the log up to the first gate whose output the new instance has not yet
 * reproduced, and the next part once it has ({@link #releasableUpTo}). Only the first {@link #PACED_TURNS} turns are
 * paced so: each costs the new instance a round trip to the checking daemon (and, with Nagle's algorithm in the app,
 * often a delayed acknowledgement: a 4 MB acknowledged stream replayed at 90 KB/s, measured in ReplayRecoveryTest),
 * while a server that diverges does so in its first answers (a timestamp, a session id, a handshake's random); past
 * them the rest of the history goes at once, as fast as the new instance reads it. Gates are bounded too: past
 * {@link #MAX_GATES} every other one is dropped, which lets two turns go at once (less checking between them, never a
 * wait for output that is not coming).
 */
final class ReplayLog {

  static final int MIN_CHUNK = 4 * 1024;
  static final int MAX_CHUNK = 64 * 1024;
  static final int MAX_GATES = 8192;
  static final int PACED_TURNS = 64;

  private final ByteBufAllocator alloc;
  private final long bound;
  private final List<ByteBuf> chunks = new ArrayList<>();
  private long size;
  /** Gate i: log bytes from gateOffsets[i] on followed the first gateOutputs[i] bytes of output; both increase. */
  private long[] gateOffsets = new long[8];

  private long[] gateOutputs = new long[8];
  private int gates;

  ReplayLog(ByteBufAllocator alloc, long bound) {
    this.alloc = alloc;
    this.bound = bound;
  }

  long size() {
    return size;
  }

  long bound() {
    return bound;
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

  /** The output the last gate waits for; 0 when there is none. */
  long lastGatedOutput() {
    return gates == 0 ? 0 : gateOutputs[gates - 1];
  }

  /**
   * The bytes appended from now on followed the first {@code output} bytes of the server's output: on a replay they
   * wait until the new instance has reproduced those. Ignored unless {@code output} is past the last gate's.
   */
  void gate(long output) {
    if (output <= lastGatedOutput()) {
      return;
    }
    if (gates > 0 && gateOffsets[gates - 1] == size) {
      gateOutputs[gates - 1] = output; // nothing was sent since the last gate: it now waits for more
      return;
    }
    if (gates == gateOffsets.length) {
      gateOffsets = Arrays.copyOf(gateOffsets, gates * 2);
      gateOutputs = Arrays.copyOf(gateOutputs, gates * 2);
    }
    gateOffsets[gates] = size;
    gateOutputs[gates] = output;
    gates++;
    if (gates == MAX_GATES) {
      for (int i = 0; i < gates / 2; i++) {
        gateOffsets[i] = gateOffsets[2 * i];
        gateOutputs[i] = gateOutputs[2 * i];
      }
      gates /= 2;
    }
  }

  /**
   * How much of the log may go to a new instance that has reproduced the first {@code output} bytes: up to the first
   * gate it has not passed, or all of it once it has passed the first {@link #PACED_TURNS}.
   */
  long releasableUpTo(long output) {
    for (int i = 0; i < gates && i < PACED_TURNS; i++) {
      if (gateOutputs[i] > output) {
        return gateOffsets[i];
      }
    }
    return size;
  }

  /** Writes (does not flush) the log's bytes [{@code from}, {@code to}) on {@code link} as DATA frames. */
  void writeTo(Channel link, long from, long to) {
    forEachSlice(from, to, slice -> LinkFrames.writeData(link, slice));
  }

  /** Writes (does not flush) the log's bytes [{@code from}, {@code to}) on {@code socket} as plain bytes. */
  void writeRawTo(Channel socket, long from, long to) {
    forEachSlice(from, to, slice -> socket.write(slice, socket.voidPromise()));
  }

  /**
   * The offset of the first of {@code other}'s {@code length} bytes from {@code index} that differs from this log's
   * bytes from {@code offset} on, or -1 if none does (all within the log).
   */
  long firstDifference(long offset, ByteBuf other, int index, int length) {
    long start = 0;
    int compared = 0;
    for (ByteBuf chunk : chunks) {
      long chunkEnd = start + chunk.readableBytes();
      if (chunkEnd > offset + compared && compared < length) {
        int from = (int) (offset + compared - start);
        int n = (int) Math.min(length - compared, chunkEnd - (offset + compared));
        // ByteBuffer.mismatch is vectorized by the JDK: about as fast as the CRC beside it
        int at = chunk.nioBuffer(chunk.readerIndex() + from, n).mismatch(other.nioBuffer(index + compared, n));
        if (at >= 0) {
          return offset + compared + at;
        }
        compared += n;
      }
      if (compared == length) {
        break;
      }
      start = chunkEnd;
    }
    return -1;
  }

  /** Calls {@code action} with a retained slice of each chunk's part of [{@code from}, {@code to}), in order. */
  private void forEachSlice(long from, long to, java.util.function.Consumer<ByteBuf> action) {
    long start = 0;
    for (ByteBuf chunk : chunks) {
      long chunkEnd = start + chunk.readableBytes();
      if (chunkEnd > from && start < to) {
        int sliceFrom = (int) (Math.max(from, start) - start);
        int sliceTo = (int) (Math.min(to, chunkEnd) - start);
        action.accept(chunk.retainedSlice(chunk.readerIndex() + sliceFrom, sliceTo - sliceFrom));
      }
      if (chunkEnd >= to) {
        return;
      }
      start = chunkEnd;
    }
  }

  void release() {
    for (ByteBuf chunk : chunks) {
      chunk.release();
    }
    chunks.clear();
    size = 0;
    gates = 0;
  }
}
