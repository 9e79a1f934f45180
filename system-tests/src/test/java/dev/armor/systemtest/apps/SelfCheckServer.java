package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code SelfCheckServer PORT [BIND-IP]}: an echo server (on every address, or on BIND-IP alone) that, like H2 at
 * start, checks it is reachable by connecting to itself at {@code localhost:PORT} once bound. Prints {@code SELF-CHECK ok pid=P} or {@code SELF-CHECK failed
 * type=CLASS message=...}, then serves lines (each echoed back prefixed with its pid) until killed.
 */
public final class SelfCheckServer {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    long pid = ProcessHandle.current().pid();
    try (ServerSocket server = args.length > 1 ? new ServerSocket(port, 50, InetAddress.getByName(args[1]))
        : new ServerSocket(port)) {
      Thread acceptor = new Thread(() -> {
        while (true) {
          try {
            Socket client = server.accept();
            new Thread(() -> echo(client, pid)).start();
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.start();
      try (Socket self = new Socket(InetAddress.getLoopbackAddress(), port)) {
        self.setSoTimeout(10_000);
        self.getOutputStream().write("self\n".getBytes(StandardCharsets.UTF_8));
        String answer = new BufferedReader(new InputStreamReader(self.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
        System.out.println((pid + " self").equals(answer) ? "SELF-CHECK ok pid=" + pid
            : "SELF-CHECK failed type=unexpected message=" + answer);
      } catch (IOException e) {
        System.out.println("SELF-CHECK failed type=" + e.getClass().getName() + " message=" + e.getMessage());
      }
      acceptor.join();
    }
  }

  private static void echo(Socket client, long pid) {
    try (client) {
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = client.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        out.write((pid + " " + line + "\n").getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the client went away
    }
  }
}
