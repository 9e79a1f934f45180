package dev.armor.systemtest.apps;

import java.net.ServerSocket;

/**
 * {@code RebindServer PORT TIMES}: binds a listener to PORT and closes it at once, TIMES times in a row, then binds it
 * for good and echoes lines as {@link LineEchoServer} does (which prints {@code LISTENING}). Each close unregisters the
 * service and each bind registers it again, back to back: the last registration must be the one that stands.
 */
public final class RebindServer {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int times = Integer.parseInt(args[1]);
    for (int i = 0; i < times; i++) {
      new ServerSocket(port).close();
    }
    System.out.println("REBOUND times=" + times);
    LineEchoServer.main(new String[] {args[0]});
  }
}
