package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code TickServer PORT}: counts the connections it accepts ({@code ACCEPTED conn=N}), sends each one
 * {@code TICK conn=N seq=S} every 50 ms, prints every line it receives ({@code GOT conn=N LINE}) and how each
 * connection ended: {@code EOF conn=N} or {@code RESET conn=N error=...}.
 */
public final class TickServer {

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket server = new ServerSocket(port)) {
      System.out.println("LISTENING pid=" + ProcessHandle.current().pid());
      while (true) {
        Socket client = server.accept();
        int conn = accepted.incrementAndGet();
        System.out.println("ACCEPTED conn=" + conn);
        Thread ticker = new Thread(() -> tick(client, conn), "tick-" + conn);
        ticker.setDaemon(true);
        ticker.start();
        Thread reader = new Thread(() -> read(client, conn), "read-" + conn);
        reader.start();
      }
    }
  }

  private static void tick(Socket client, int conn) {
    try {
      OutputStream out = client.getOutputStream();
      for (long seq = 1; ; seq++) {
        out.write(("TICK conn=" + conn + " seq=" + seq + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        Thread.sleep(50);
      }
    } catch (IOException e) {
      System.out.println("WRITE-FAILED conn=" + conn + " error=" + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void read(Socket client, int conn) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        System.out.println("GOT conn=" + conn + " " + line);
      }
      System.out.println("EOF conn=" + conn);
    } catch (IOException e) {
      System.out.println("RESET conn=" + conn + " error=" + e);
    }
  }
}
