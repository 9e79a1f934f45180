package dev.armor.relay.testkit;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A deterministic byte stream: the byte at offset i is a function of i, so both ends can check a transfer
 * byte-exact (nothing lost, duplicated or reordered) without storing it.
 */
public final class Pattern {

  private static final int CHUNK = 64 * 1024;

  private Pattern() {}

  public static byte at(long i) {
    return (byte) (i * 31 + (i >>> 8) * 17 + (i >>> 16) * 13 + (i >>> 24) * 7);
  }

  /** Writes bytes [0, total) of the pattern, counting progress in {@code written}. */
  public static void write(OutputStream out, long total, AtomicLong written) throws IOException {
    byte[] buf = new byte[CHUNK];
    long offset = 0;
    while (offset < total) {
      int n = (int) Math.min(CHUNK, total - offset);
      for (int i = 0; i < n; i++) {
        buf[i] = at(offset + i);
      }
      out.write(buf, 0, n);
      offset += n;
      if (written != null) {
        written.set(offset);
      }
    }
    out.flush();
  }

  /**
   * Reads to end of stream checking every byte against the pattern; returns how many bytes were read.
   *
   * @throws IOException on a mismatch (naming the offset) or a read error
   */
  public static long verify(InputStream in, AtomicLong read) throws IOException {
    byte[] buf = new byte[CHUNK];
    long offset = 0;
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      for (int i = 0; i < n; i++) {
        if (buf[i] != at(offset + i)) {
          throw new IOException("pattern mismatch at byte " + (offset + i));
        }
      }
      offset += n;
      if (read != null) {
        read.set(offset);
      }
    }
    return offset;
  }

  /** Reads exactly {@code total} bytes and checks them against the pattern starting at {@code from}. */
  public static void verifyExactly(InputStream in, long from, long total) throws IOException {
    byte[] buf = new byte[CHUNK];
    long offset = from;
    long end = from + total;
    while (offset < end) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, end - offset));
      if (n < 0) {
        throw new EOFException("end of stream after " + (offset - from) + " of " + total + " bytes");
      }
      for (int i = 0; i < n; i++) {
        if (buf[i] != at(offset + i)) {
          throw new IOException("pattern mismatch at byte " + (offset + i));
        }
      }
      offset += n;
    }
  }
}
