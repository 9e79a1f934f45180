package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A running hash of a byte stream (what a client app was delivered), with checkpoints, so that another stream (a
 * restarted server's output) can be checked against it without keeping the bytes.
 *
 * <p>Design note. The hash is a cumulative CRC32C (a JVM intrinsic: several GB/s, so the cost on the delivery path is
 * small). Its value is recorded every {@code interval} bytes; the value at the stream's end is the running state
 * itself. A {@link Verifier} hashes the other stream the same way and compares at each checkpoint, so a divergence
 * is caught at the first checkpoint after it (not only at the end) and located within one interval. Memory is
 * bounded: past {@link #MAX_CHECKPOINTS} every other checkpoint is dropped and the interval doubles (cumulative
 * values stay valid at coarser boundaries). Why a hash and not the delivered bytes themselves: a stream may be
 * gigabytes long; why CRC32C: any burst under 32 bits is always detected and other differences escape with a
 * probability of 2^-32 per checkpoint compared.
 *
 * <p>Not thread-safe: confined to its connection's event loop.
 */
final class StreamDigest {

  static final int INITIAL_INTERVAL = 64 * 1024;
  static final int MAX_CHECKPOINTS = 4096;

  private final CRC32C crc = new CRC32C();
  private final int maxCheckpoints;
  private long position;
  private long interval;
  /** checkpoints[i]: the cumulative CRC of bytes [0, (i + 1) * interval). */
  private int[] checkpoints = new int[16];

  private int count;

  StreamDigest() {
    this(INITIAL_INTERVAL, MAX_CHECKPOINTS);
  }

  /** With a given first interval and checkpoint limit (an even number): tests. */
  StreamDigest(int interval, int maxCheckpoints) {
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

  /** Hashes {@code buf}'s readable bytes (indices unchanged). */
  void update(ByteBuf buf) {
    int index = buf.readerIndex();
    int length = buf.readableBytes();
    while (length > 0) {
      long boundary = (count + 1L) * interval;
      int n = (int) Math.min(length, boundary - position);
      hash(crc, buf, index, n);
      position += n;
      index += n;
      length -= n;
      if (position == boundary) {
        addCheckpoint((int) crc.getValue());
      }
    }
  }

  private void addCheckpoint(int value) {
    if (count == checkpoints.length) {
      checkpoints = Arrays.copyOf(checkpoints, count * 2);
    }
    checkpoints[count++] = value;
    if (count == maxCheckpoints) {
      for (int i = 0; i < count / 2; i++) {
        checkpoints[i] = checkpoints[2 * i + 1];
      }
      count /= 2;
      interval *= 2;
    }
  }

  /** A checker of another stream against the first {@link #position()} bytes of this one (frozen meanwhile). */
  Verifier verifier() {
    return new Verifier();
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
    private long checked;

    /** Bytes still to check. */
    long remaining() {
      return end - checked;
    }

    /**
     * Checks the next {@code length} bytes of the other stream ({@code buf} from {@code index}; at most
     * {@link #remaining()}).
     *
     * @return -1 if they match so far (and, once {@code remaining()} is 0, entirely); else the offset where the
     *     smallest range told apart starts
     */
    long check(ByteBuf buf, int index, int length) {
      while (length > 0) {
        int k = (int) (checked / interval); // the checkpoint (or final state) closing the range being checked
        long boundary = k < count ? (k + 1L) * interval : end;
        int n = (int) Math.min(length, boundary - checked);
        hash(other, buf, index, n);
        checked += n;
        index += n;
        length -= n;
        if (checked == boundary) {
          int expected = k < count ? checkpoints[k] : (int) crc.getValue();
          if ((int) other.getValue() != expected) {
            return k * interval;
          }
        }
      }
      return -1;
    }

    /** The range the other stream has reached, for messages: {@code [start, end)} of the current interval. */
    long rangeEnd(long start) {
      return Math.min(start + interval, end);
    }
  }
}
