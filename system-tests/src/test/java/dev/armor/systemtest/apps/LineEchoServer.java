package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;

/**
 * Echoes every line back, prefixed with this process's pid: {@code LineEchoServer PORT [--nio]}. Blocking
 * flavour: {@link ServerSocket} and a thread per client; NIO flavour: one selector thread, non-blocking.
 * Prints {@code LISTENING port=P local_port=L} once bound.
 */
public final class LineEchoServer {

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    boolean nio = args.length > 1 && args[1].equals("--nio");
    String prefix = ProcessHandle.current().pid() + " ";
    if (nio) {
      nio(port, prefix);
    } else {
      blocking(port, prefix);
    }
  }

  private static void blocking(int port, String prefix) throws IOException {
    try (ServerSocket server = new ServerSocket(port)) {
      System.out.println("LISTENING port=" + port + " local_port=" + server.getLocalPort());
      while (true) {
        Socket client = server.accept();
        Thread thread = new Thread(() -> serve(client, prefix));
        thread.start();
      }
    }
  }

  private static void serve(Socket client, String prefix) {
    try (client;
        BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
      OutputStream out = client.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        out.write((prefix + line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      System.out.println("CLIENT-ERROR " + e);
    }
  }

  private static void nio(int port, String prefix) throws IOException {
    Selector selector = Selector.open();
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(port));
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    System.out.println("LISTENING port=" + port + " local_port=" + server.socket().getLocalPort());
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
        } else if (key.isReadable()) {
          echo(key, prefix);
        }
      }
    }
  }

  private static void echo(SelectionKey key, String prefix) throws IOException {
    SocketChannel channel = (SocketChannel) key.channel();
    StringBuilder pending = (StringBuilder) key.attachment();
    ByteBuffer buffer = ByteBuffer.allocate(4096);
    int n;
    try {
      n = channel.read(buffer);
    } catch (IOException e) {
      key.cancel();
      channel.close();
      return;
    }
    if (n < 0) {
      key.cancel();
      channel.close();
      return;
    }
    pending.append(new String(buffer.array(), 0, n, StandardCharsets.UTF_8));
    int newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      ByteBuffer reply = ByteBuffer.wrap((prefix + pending.substring(0, newline) + "\n").getBytes(StandardCharsets.UTF_8));
      pending.delete(0, newline + 1);
      while (reply.hasRemaining()) { // small replies: a full socket buffer is rare and short-lived here
        channel.write(reply);
      }
    }
  }
}
