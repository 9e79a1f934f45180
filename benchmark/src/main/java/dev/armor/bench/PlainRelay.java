package dev.armor.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A minimal unprotected relay, the baseline for "what any dual proxy costs": blocking sockets, two threads per
 * connection copying with a 64 KiB buffer, {@code TCP_NODELAY} on both sides, end of stream passed on as a
 * half-close. Two of them chained make the dual proxy Armor is compared against (client, relay, relay, server:
 * three TCP links, as with Armor's two daemons).
 *
 * <p>Usage: {@code PlainRelay LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT}; prints {@code READY} once bound.
 */
public final class PlainRelay {

  private PlainRelay() {}

  public static void main(String[] args) throws IOException {
    ServerSocket server = new ServerSocket(Integer.parseInt(args[1]), 1024, InetAddress.getByName(args[0]));
    InetSocketAddress target = new InetSocketAddress(args[2], Integer.parseInt(args[3]));
    System.out.println("READY");
    System.out.flush();
    while (true) {
      Socket accepted = server.accept();
      Thread thread = new Thread(() -> relay(accepted, target), "relay-" + accepted.getPort());
      thread.setDaemon(true);
      thread.start();
    }
  }

  private static void relay(Socket accepted, InetSocketAddress target) {
    Socket upstream = new Socket();
    try {
      accepted.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(target);
    } catch (IOException e) {
      closeQuietly(accepted);
      closeQuietly(upstream);
      return;
    }
    Thread back = new Thread(() -> copy(upstream, accepted), "relay-back-" + accepted.getPort());
    back.setDaemon(true);
    back.start();
    copy(accepted, upstream);
    try {
      back.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeQuietly(accepted);
    closeQuietly(upstream);
  }

  private static void copy(Socket from, Socket to) {
    byte[] buffer = new byte[64 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
      }
      to.shutdownOutput();
    } catch (IOException e) {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing after an error: nothing more to do
    }
  }
}
