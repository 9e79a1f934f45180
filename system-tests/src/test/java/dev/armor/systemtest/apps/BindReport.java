package dev.armor.systemtest.apps;

import java.io.IOException;
import java.net.ServerSocket;

/**
 * {@code BindReport PORT}: binds a listener on every address at PORT and says how it went ({@code BOUND port=P}, or
 * {@code BIND-FAILED type=CLASS message=...}), then waits for a line on stdin before it ends.
 */
public final class BindReport {

  public static void main(String[] args) throws IOException {
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
      System.out.println("BOUND port=" + server.getLocalPort());
      System.in.read();
    } catch (IOException e) {
      System.out.println("BIND-FAILED type=" + e.getClass().getName() + " message=" + e.getMessage());
      System.in.read();
    }
  }
}
