package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code ReconnectingClient HOST PORT}: what a client restarted by its Execution ARMOR does: connects on start
 * ({@code CONNECTED pid=P}), says {@code HELLO pid=P}, then {@code PING pid=P n=N} every 200 ms, and prints every
 * line it receives as {@code RECV pid=P LINE}. Ends on {@code EOF} or {@code ERROR type=... message=...} (exit 1);
 * otherwise runs until killed.
 */
public final class ReconnectingClient {

  public static void main(String[] args) throws Exception {
    long pid = ProcessHandle.current().pid();
    try (Socket socket = new Socket(args[0], Integer.parseInt(args[1]))) {
      System.out.println("CONNECTED pid=" + pid + " remote=" + socket.getRemoteSocketAddress());
      OutputStream out = socket.getOutputStream();
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.write(("HELLO pid=" + pid + "\n").getBytes(StandardCharsets.UTF_8));
                  for (long n = 1; ; n++) {
                    Thread.sleep(200);
                    out.write(("PING pid=" + pid + " n=" + n + "\n").getBytes(StandardCharsets.UTF_8));
                  }
                } catch (IOException | InterruptedException e) {
                  // the reader reports how the connection ended
                }
              },
              "writer");
      writer.setDaemon(true);
      writer.start();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        System.out.println("RECV pid=" + pid + " " + line);
      }
      System.out.println("EOF pid=" + pid);
    } catch (IOException e) {
      System.out.println("ERROR pid=" + pid + " type=" + e.getClass().getName() + " message=" + e.getMessage());
    }
    System.exit(1);
  }
}
