package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * What a client app was delivered, kept so that another stream (a restarted server's output) can be checked against
 * it as it arrives: the first bytes themselves (up to a bound), and a running hash with checkpoints for all of it.
 *
 * <p>Design note. Within the kept prefix (default: the connection's {@code replay-log-bytes}, like the client's own
 * stream) a {@link Verifier} compares byte for byte, so a restarted server that diverges is caught at the first wrong
 * byte and the offset reported is exact: an HTTP {@code Date} header, a TLS handshake's random or a session id shows
 * within the response that carries it. Past the prefix (a long download, a stream) the bytes are not kept: the hash is
 * a cumulative CRC32C (a JVM intrinsic: several GB/s, so the cost on the delivery path is small), recorded at
 * checkpoints, and a divergence there is caught at the first checkpoint after it and located between two
 * checkpoints. Checkpoints are made every {@code interval} bytes and at every {@link #mark()}: the replay marks the
 * output position each time the client spoke after new output (a turn of the conversation), so even past the prefix a
 * restarted server is checked at the end of every answer before it is given the next request. Memory is bounded: past
 * {@link #MAX_CHECKPOINTS} every other checkpoint is dropped and the interval doubles (cumulative values stay valid
 * at the positions kept). Why CRC32C: any burst under 32 bits is always detected and other differences escape with a
 * probability of 2^-32 per checkpoint compared.
 *
 * <p>Not thread-safe: confined to its connection's event loop. Holds buffers: {@link #release()} when done.
 */
final class StreamDigest {

  static final int INITIAL_INTERVAL = 64 * 1024;
  static final int MAX_CHECKPOINTS = 4096;

  private final CRC32C crc = new CRC32C();
  private final int maxCheckpoints;
  /** The first bytes of the stream, up to its bound; null when none are kept. */
  private final ReplayLog kept;
  private boolean keeping;
  private long position;
  private long interval;
  /** Checkpoint i: the cumulative CRC of bytes [0, positions[i]); positions strictly increase. */
  private long[] positions = new long[16];

  private int[] values = new int[16];
  private int count;

  /** Keeps the first {@code keepBytes} bytes (allocated from {@code alloc}) and hashes all of them. */
  StreamDigest(ByteBufAllocator alloc, long keepBytes) {
    this(alloc, keepBytes, INITIAL_INTERVAL, MAX_CHECKPOINTS);
  }

  /** Keeps no bytes, with a given first interval and checkpoint limit (an even number): tests. */
  StreamDigest(int interval, int maxCheckpoints) {
    this(null, 0, interval, maxCheckpoints);
  }

  StreamDigest(ByteBufAllocator alloc, long keepBytes, int interval, int maxCheckpoints) {
    this.kept = keepBytes > 0 ? new ReplayLog(alloc, keepBytes) : null;
    this.keeping = kept != null;
    this.interval = interval;
    this.maxCheckpoints = maxCheckpoints;
  }

  /** Bytes hashed so far. */
  long position() {
    return position;
  }

  long interval() {
    return interval;
  }

  /** How many of the first bytes are kept (compared exactly by a verifier). */
  long keptBytes() {
    return kept == null ? 0 : kept.size();
  }

  /** Hashes {@code buf}'s readable bytes (indices unchanged), keeping them while within the bound. */
  void update(ByteBuf buf) {
    int index = buf.readerIndex();
    int length = buf.readableBytes();
    if (keeping && length > 0) {
      keep(buf, index, length);
    }
    while (length > 0) {
      long boundary = lastCheckpoint() + interval;
      int n = (int) Math.min(length, boundary - position);
      hash(crc, buf, index, n);
      position += n;
      index += n;
      length -= n;
      if (position == boundary) {
        addCheckpoint();
      }
    }
  }

  /** A checkpoint at the current position (unless there is one): a verifier compares exactly there. */
  void mark() {
    if (position > lastCheckpoint()) {
      addCheckpoint();
    }
  }

  /** A checker of another stream against the first {@link #position()} bytes of this one (frozen meanwhile). */
  Verifier verifier() {
    return new Verifier();
  }

  /** Frees the kept bytes. */
  void release() {
    if (kept != null) {
      kept.release();
    }
    keeping = false;
  }

  private void keep(ByteBuf buf, int index, int length) {
    long room = kept.bound() - kept.size();
    int n = (int) Math.min(length, room);
    if (n > 0) {
      kept.append(buf.slice(index, n));
    }
    if (n < length) {
      keeping = false; // the bound is reached: from here on the hash alone
    }
  }

  private long lastCheckpoint() {
    return count == 0 ? 0 : positions[count - 1];
  }

  private void addCheckpoint() {
    if (count == positions.length) {
      positions = Arrays.copyOf(positions, count * 2);
      values = Arrays.copyOf(values, count * 2);
    }
    positions[count] = position;
    values[count] = (int) crc.getValue();
    count++;
    if (count == maxCheckpoints) {
      for (int i = 0; i < count / 2; i++) {
        positions[i] = positions[2 * i + 1];
        values[i] = values[2 * i + 1];
      }
      count /= 2;
      interval *= 2;
    }
  }

  static void hash(CRC32C crc, ByteBuf buf, int index, int length) {
    if (length == 0) {
      return;
    }
    if (buf.hasArray()) {
      crc.update(buf.array(), buf.arrayOffset() + index, length);
    } else if (buf.nioBufferCount() == 1) {
      crc.update(buf.internalNioBuffer(index, length));
    } else {
      for (ByteBuffer part : buf.nioBuffers(index, length)) {
        crc.update(part);
      }
    }
  }

  /** Checks a stream, in order, against the digest's first {@code end} bytes. */
  final class Verifier {
    private final CRC32C other = new CRC32C();
    private final long end = position;
    private final int endValue = (int) crc.getValue();
    private final long exactEnd = keptBytes();
    /** The next checkpoint to compare at (index into the digest's checkpoints). */
    private int next;

    private long checked;

    /** Bytes still to check. */
    long remaining() {
      return end - checked;
    }

    /** Bytes of the other stream checked so far (matching, as far as the checks could tell). */
    long checked() {
      return checked;
    }

    /**
     * Checks the next {@code length} bytes of the other stream ({@code buf} from {@code index}; at most
     * {@link #remaining()}).
     *
     * @return -1 if they match so far (and, once {@code remaining()} is 0, entirely); else the offset of the first
     *     byte that differs where the bytes were kept ({@link #isExact}), or where the smallest range told apart
     *     starts
     */
    long check(ByteBuf buf, int index, int length) {
      if (checked < exactEnd) {
        int n = (int) Math.min(length, exactEnd - checked);
        long differs = kept.firstDifference(checked, buf, index, n);
        if (differs >= 0) {
          return differs;
        }
      }
      while (length > 0) {
        while (next < count && positions[next] <= checked) {
          next++;
        }
        long boundary = next < count ? positions[next] : end;
        int n = (int) Math.min(length, boundary - checked);
        hash(other, buf, index, n);
        checked += n;
        index += n;
        length -= n;
        if (checked == boundary) {
          int expected = next < count ? values[next] : endValue;
          if ((int) other.getValue() != expected) {
            return next == 0 ? 0 : positions[next - 1];
          }
        }
      }
      return -1;
    }

    /** Whether a mismatch {@link #check} reported is the exact offset of the first differing byte. */
    boolean isExact(long mismatch) {
      return mismatch < exactEnd;
    }

    /** For an inexact mismatch at {@code start}: the end of the range told apart. */
    long rangeEnd(long start) {
      for (int i = 0; i < count; i++) {
        if (positions[i] > start) {
          return Math.min(positions[i], end);
        }
      }
      return end;
    }
  }
}
