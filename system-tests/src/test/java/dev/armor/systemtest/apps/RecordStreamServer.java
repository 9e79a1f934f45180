package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * {@code RecordStreamServer PORT}: a deterministic stream. Each connection gets records 0, 1, 2, ... (16 bytes:
 * the sequence number and a CRC-32 of it, both as longs), flow-controlled by the client's {@code ACK n} lines: it
 * sends while {@code next < acked + WINDOW}. Its output depends only on what the connection sent, so Armor's
 * replay policy can restart it invisibly.
 */
public final class RecordStreamServer {

  static final int WINDOW = 2000;

  public static void main(String[] args) throws IOException {
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
      System.out.println("LISTENING pid=" + ProcessHandle.current().pid());
      System.out.flush();
      while (true) {
        Socket client = server.accept();
        new Thread(() -> serve(client)).start();
      }
    }
  }

  static long crc(long seq) {
    CRC32 crc = new CRC32();
    for (int i = 0; i < 8; i++) {
      crc.update((int) (seq >>> (8 * i)) & 0xff);
    }
    return crc.getValue();
  }

  private static void serve(Socket client) {
    AtomicLong acked = new AtomicLong();
    Thread reader = new Thread(() -> readAcks(client, acked));
    reader.setDaemon(true);
    reader.start();
    try (client; OutputStream raw = client.getOutputStream()) {
      DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw, 8192));
      long next = 0;
      while (true) {
        if (next >= acked.get() + WINDOW) {
          out.flush(); // not under the lock: a blocked write must not keep the ACK reader out
          synchronized (acked) {
            while (next >= acked.get() + WINDOW) {
              acked.wait();
            }
          }
        }
        out.writeLong(next);
        out.writeLong(crc(next));
        next++;
        if (next % 64 == 0) {
          out.flush();
        }
      }
    } catch (IOException | InterruptedException e) {
      // the client went away
    }
  }

  private static void readAcks(Socket client, AtomicLong acked) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          synchronized (acked) {
            acked.set(Long.parseLong(line.substring(4)));
            acked.notifyAll();
          }
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }
}
