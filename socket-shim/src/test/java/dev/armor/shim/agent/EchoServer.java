package dev.armor.shim.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback line echo in the test JVM that prefixes its answers with a tag ({@code relay:ping}), so the app's
 * output tells which server it reached: the daemon's "relay" for Via routes, or the real server for Direct ones.
 */
final class EchoServer implements AutoCloseable {
  private final String tag;
  private final ServerSocket server;
  private final AtomicInteger accepted = new AtomicInteger();

  EchoServer(String tag) throws IOException {
    this.tag = tag;
    this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(this::acceptLoop, "echo-" + tag);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", port());
  }

  int accepted() {
    return accepted.get();
  }

  private void acceptLoop() {
    try {
      while (true) {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        Thread connection = new Thread(() -> echo(socket), "echo-" + tag + "-connection");
        connection.setDaemon(true);
        connection.start();
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void echo(Socket socket) {
    try (socket) {
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
      for (String line; (line = in.readLine()) != null; ) {
        out.println(tag + ":" + line);
      }
    } catch (IOException e) {
      // the app went away
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
