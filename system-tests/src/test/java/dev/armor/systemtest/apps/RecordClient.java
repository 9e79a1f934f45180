package dev.armor.systemtest.apps;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code RecordClient HOST PORT SECONDS}: reads {@link RecordStreamServer}'s records over one connection and checks
 * each is the next one with its CRC; acknowledges every 100 (sleeping 1 ms per 100 to stay a moderate reader). Prints
 * {@code RECORDS n} every 100 ms; any gap, repeat or bad CRC prints {@code ERROR} and exits 1; EOF prints
 * {@code EOF} and exits 1; {@code DONE records=n} and exit 0 at the end.
 */
public final class RecordClient {

  public static void main(String[] args) throws Exception {
    long end = System.currentTimeMillis() + Long.parseLong(args[2]) * 1000;
    try (Socket socket = new Socket(args[0], Integer.parseInt(args[1]))) {
      System.out.println("CONNECTED remote=" + socket.getRemoteSocketAddress());
      DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
      OutputStream out = socket.getOutputStream();
      out.write("ACK 0\n".getBytes(StandardCharsets.US_ASCII));
      long expected = 0;
      long lastReport = 0;
      while (System.currentTimeMillis() < end) {
        long seq = in.readLong();
        long crc = in.readLong();
        if (seq != expected || crc != RecordStreamServer.crc(seq)) {
          System.out.println("ERROR type=mismatch message=expected record " + expected + " but got " + seq
              + (crc != RecordStreamServer.crc(seq) ? " with a bad CRC" : ""));
          System.exit(1);
        }
        expected++;
        if (expected % 100 == 0) {
          out.write(("ACK " + expected + "\n").getBytes(StandardCharsets.US_ASCII));
          Thread.sleep(1);
        }
        if (System.currentTimeMillis() - lastReport >= 100) {
          lastReport = System.currentTimeMillis();
          System.out.println("RECORDS " + expected);
        }
      }
      System.out.println("DONE records=" + expected);
      System.exit(0);
    } catch (EOFException e) {
      System.out.println("EOF");
      System.exit(1);
    } catch (IOException e) {
      System.out.println("ERROR type=" + e.getClass().getName() + " message=" + e.getMessage());
      System.exit(1);
    }
  }
}
