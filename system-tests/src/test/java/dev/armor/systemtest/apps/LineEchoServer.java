package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;

/**
 * Echoes every line back, prefixed with this process's pid: {@code LineEchoServer PORT [--nio|--async]}. Blocking
 * flavour: {@link ServerSocket} and a thread per client; NIO flavour: one selector thread, non-blocking; async
 * flavour: an {@link AsynchronousServerSocketChannel} and a thread per client.
 * Prints {@code LISTENING port=P local_port=L} once bound.
 */
public final class LineEchoServer {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String flavour = args.length > 1 ? args[1] : "--blocking";
    String prefix = ProcessHandle.current().pid() + " ";
    switch (flavour) {
      case "--nio" -> nio(port, prefix);
      case "--async" -> async(port, prefix);
      default -> blocking(port, prefix);
    }
  }

  private static void async(int port, String prefix) throws Exception {
    try (AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open()) {
      server.bind(new InetSocketAddress(port));
      System.out.println("LISTENING port=" + port + " local_port="
          + ((InetSocketAddress) server.getLocalAddress()).getPort());
      while (true) {
        AsynchronousSocketChannel client = server.accept().get();
        Thread thread = new Thread(
            () -> serve(client, Channels.newInputStream(client), Channels.newOutputStream(client), prefix));
        thread.start();
      }
    }
  }

  private static void blocking(int port, String prefix) throws IOException {
    try (ServerSocket server = new ServerSocket(port)) {
      System.out.println("LISTENING port=" + port + " local_port=" + server.getLocalPort());
      while (true) {
        Socket client = server.accept();
        Thread thread = new Thread(() -> {
          try {
            serve(client, client.getInputStream(), client.getOutputStream(), prefix);
          } catch (IOException e) {
            System.out.println("CLIENT-ERROR " + e);
          }
        });
        thread.start();
      }
    }
  }

  private static void serve(Closeable client, InputStream input, OutputStream out, String prefix) {
    try (client;
        BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8))) {
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
