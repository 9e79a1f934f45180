package dev.armor.faults.apps;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code SequenceClient HOST PORT [PERIOD_MS]}: one connection for its whole life; a writer sends a 16-byte record
 * (sequence number, check word) every period, a reader checks each echo is the next record.
 *
 * <p>Every record carries this process's random stream id in its top bits, so a restarted client can tell echoes of
 * its own records from those its crashed predecessor sent (counted as {@code foreign}). Prints, all times in epoch
 * ms:
 * <ul>
 *   <li>{@code CONNECTED stream=S at=T}, then {@code FIRST at=T} at the first echo of its own records
 *   <li>{@code STALL from=T1 to=T2 ms=D}: no echo for longer than ten periods (at least 100 ms); {@code to} is the
 *       first byte after the gap
 *   <li>{@code STATS at=T received=N lost=BYTES dup=BYTES foreign=BYTES} every second: {@code lost} counts bytes of
 *       records that never came back (a gap in the sequence), {@code dup} those that came back twice or out of order
 *   <li>{@code ERROR at=T type=EXCEPTION message=M} or {@code EOF at=T}, then exit 1: what an unprotected client would
 *       see when its server fails
 * </ul>
 */
public final class SequenceClient {

  static final int RECORD = 16;

  private SequenceClient() {}

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long periodMillis = args.length > 2 ? Long.parseLong(args[2]) : 10;
    long stallMillis = Math.max(100, periodMillis * 10);
    long stream = ThreadLocalRandom.current().nextLong(1, 1 << 20) << 40;
    try (Socket socket = new Socket(host, port)) {
      socket.setTcpNoDelay(true);
      System.out.println("CONNECTED stream=" + (stream >>> 40) + " at=" + System.currentTimeMillis());
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      Thread writer = new Thread(() -> write(out, stream, periodMillis), "writer");
      writer.setDaemon(true);
      writer.start();
      read(new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream())), stream, stallMillis);
    } catch (IOException e) {
      fail(e);
    }
  }

  private static void write(DataOutputStream out, long stream, long periodMillis) {
    long next = System.nanoTime();
    try {
      for (long seq = stream; ; seq++) {
        out.writeLong(seq);
        out.writeLong(check(seq));
        out.flush();
        next += periodMillis * 1_000_000;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    } catch (IOException e) {
      fail(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void read(DataInputStream in, long stream, long stallMillis) throws IOException {
    long expected = stream;
    long received = 0;
    long lost = 0;
    long dup = 0;
    long foreign = 0;
    long last = System.currentTimeMillis();
    long lastStats = last;
    boolean first = true;
    while (true) {
      long seq = in.readLong();
      long word = in.readLong();
      long now = System.currentTimeMillis();
      if (now - last > stallMillis) {
        System.out.println("STALL from=" + last + " to=" + now + " ms=" + (now - last));
      }
      last = now;
      if (word != check(seq)) {
        System.out.println("ERROR at=" + now + " type=corrupt message=record " + Long.toHexString(seq)
            + " has a bad check word");
        System.exit(1);
      } else if ((seq >>> 40) != (stream >>> 40)) {
        foreign += RECORD;
      } else if (seq == expected) {
        expected++;
        received++;
        if (first) {
          first = false;
          System.out.println("FIRST at=" + now);
        }
      } else if (seq > expected) {
        lost += (seq - expected) * RECORD;
        expected = seq + 1;
        received++;
      } else {
        dup += RECORD;
      }
      if (now - lastStats >= 1000) {
        lastStats = now;
        System.out.println("STATS at=" + now + " received=" + received + " lost=" + lost + " dup=" + dup
            + " foreign=" + foreign);
      }
    }
  }

  static long check(long seq) {
    return Long.rotateLeft(seq * 0x9E3779B97F4A7C15L, 17) ^ 0x5DEECE66DL;
  }

  private static void fail(IOException e) {
    long now = System.currentTimeMillis();
    if (e instanceof EOFException) {
      System.out.println("EOF at=" + now);
    } else {
      System.out.println("ERROR at=" + now + " type=" + e.getClass().getName() + " message=" + e.getMessage());
    }
    System.out.flush();
    System.exit(1);
  }
}
