package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;

/**
 * {@code HashServer PORT [--nio] [--timestamp]}: request/response. Each request line gets one reply line, the
 * SHA-256 of the request in hex: deterministic. With {@code --timestamp} each reply also carries the server's
 * clock, so a restarted instance answers differently: the case Armor's replay must refuse to splice.
 */
public final class HashServer {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    boolean nio = java.util.Arrays.asList(args).contains("--nio");
    boolean timestamp = java.util.Arrays.asList(args).contains("--timestamp");
    System.out.println("LISTENING pid=" + ProcessHandle.current().pid());
    System.out.flush();
    if (nio) {
      nio(port, timestamp);
    } else {
      try (java.net.ServerSocket server = new java.net.ServerSocket(port)) {
        while (true) {
          java.net.Socket client = server.accept();
          new Thread(() -> serve(client, timestamp)).start();
        }
      }
    }
  }

  static String answer(String request, boolean timestamp) {
    try {
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(request.getBytes(StandardCharsets.UTF_8)));
      return timestamp ? hash + " " + System.nanoTime() : hash;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void serve(java.net.Socket client, boolean timestamp) {
    try (client; BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
      OutputStream out = client.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        out.write((answer(line, timestamp) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private static void nio(int port, boolean timestamp) throws IOException {
    Selector selector = Selector.open();
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(port));
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    ByteBuffer buffer = ByteBuffer.allocate(8192);
    while (true) {
      selector.select();
      Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        if (key.isAcceptable()) {
          SocketChannel client = server.accept();
          if (client != null) {
            client.configureBlocking(false);
            client.register(selector, SelectionKey.OP_READ, new StringBuilder());
          }
          continue;
        }
        SocketChannel channel = (SocketChannel) key.channel();
        StringBuilder pending = (StringBuilder) key.attachment();
        buffer.clear();
        int n;
        try {
          n = channel.read(buffer);
        } catch (IOException e) {
          n = -1;
        }
        if (n < 0) {
          key.cancel();
          channel.close();
          continue;
        }
        pending.append(new String(buffer.array(), 0, n, StandardCharsets.UTF_8));
        int newline;
        while ((newline = pending.indexOf("\n")) >= 0) {
          ByteBuffer reply = ByteBuffer.wrap((answer(pending.substring(0, newline), timestamp) + "\n")
              .getBytes(StandardCharsets.UTF_8));
          pending.delete(0, newline + 1);
          while (reply.hasRemaining()) { // small replies: a full socket buffer is rare and short-lived here
            channel.write(reply);
          }
        }
      }
    }
  }
}
