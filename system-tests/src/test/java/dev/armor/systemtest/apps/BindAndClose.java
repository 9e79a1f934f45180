package dev.armor.systemtest.apps;

import java.net.ServerSocket;

/** {@code BindAndClose PORT}: binds a listener, closes it, says so, and lives on for a minute. */
public final class BindAndClose {

  public static void main(String[] args) throws Exception {
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
      System.out.println("BOUND port=" + server.getLocalPort());
    }
    System.out.println("CLOSED");
    Thread.sleep(60_000);
  }
}
