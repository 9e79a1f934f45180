package dev.armor.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What one local hop costs over TCP loopback and over a Unix-domain socket: a 32-byte ping-pong straight to an echo
 * server, and through one blocking relay, each over both kinds of socket (p50 of 20,000 rounds after 5,000). Under
 * Armor four of a round trip's six sends cross such a hop, between an app and its own node's daemon; this is the
 * figure behind run 9's "the way out" (docs/PERFORMANCE.md). Not part of {@code scripts/bench}; run by hand:
 * {@code java -cp benchmark/target/classes dev.armor.bench.LocalHopProbe}. Uses 127.0.0.1 ports 9891-9892 and a
 * temporary directory.
 */
public final class LocalHopProbe {

  private static final int WARMUP = 5_000;
  private static final int ROUNDS = 20_000;

  private LocalHopProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("armor-local-hop");
    for (boolean unix : new boolean[] {false, true}) {
      SocketAddress echo = unix ? UnixDomainSocketAddress.of(dir.resolve("echo.sock"))
          : new InetSocketAddress("127.0.0.1", 9891);
      SocketAddress relay = unix ? UnixDomainSocketAddress.of(dir.resolve("relay.sock"))
          : new InetSocketAddress("127.0.0.1", 9892);
      ServerSocketChannel echoServer = listen(echo);
      ServerSocketChannel relayServer = listen(relay);
      daemon(() -> serve(echoServer, accepted -> daemon(() -> pump(accepted, accepted))));
      daemon(() -> serve(relayServer, accepted -> {
        SocketChannel upstream = connect(echo);
        daemon(() -> pump(accepted, upstream));
        daemon(() -> pump(upstream, accepted));
      }));
      String kind = unix ? "unix-domain" : "tcp-loopback";
      System.out.printf("%-13s direct p50 %6.1f us, through one relay p50 %6.1f us%n", kind,
          pingPong(echo), pingPong(relay));
      echoServer.close();
      relayServer.close();
    }
    try (var files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Files.delete(file);
      }
    }
    Files.delete(dir);
  }

  private static double pingPong(SocketAddress target) throws IOException {
    try (SocketChannel channel = connect(target)) {
      ByteBuffer message = ByteBuffer.allocateDirect(32);
      ByteBuffer reply = ByteBuffer.allocateDirect(32);
      long[] nanos = new long[ROUNDS];
      for (int i = 0; i < WARMUP + ROUNDS; i++) {
        long start = System.nanoTime();
        message.clear();
        while (message.hasRemaining()) {
          channel.write(message);
        }
        reply.clear();
        while (reply.hasRemaining()) {
          if (channel.read(reply) < 0) {
            throw new IOException("closed by " + target);
          }
        }
        if (i >= WARMUP) {
          nanos[i - WARMUP] = System.nanoTime() - start;
        }
      }
      Arrays.sort(nanos);
      return nanos[ROUNDS / 2] / 1000.0;
    }
  }

  private static ServerSocketChannel listen(SocketAddress address) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(address instanceof UnixDomainSocketAddress
        ? StandardProtocolFamily.UNIX : StandardProtocolFamily.INET);
    return server.bind(address);
  }

  private static SocketChannel connect(SocketAddress address) throws IOException {
    SocketChannel channel = SocketChannel.open(address);
    noDelay(channel);
    return channel;
  }

  private static void noDelay(SocketChannel channel) throws IOException {
    if (channel.getLocalAddress() instanceof InetSocketAddress) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
  }

  private interface Accepted {
    void take(SocketChannel accepted) throws IOException;
  }

  private static void serve(ServerSocketChannel server, Accepted handler) {
    try {
      while (true) {
        SocketChannel accepted = server.accept();
        noDelay(accepted);
        handler.take(accepted);
      }
    } catch (IOException closed) {
      // the probe moved on to the next kind of socket
    }
  }

  private static void pump(SocketChannel from, SocketChannel to) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    try {
      while (from.read(buffer) > 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          to.write(buffer);
        }
        buffer.clear();
      }
    } catch (IOException ended) {
      // the ping-pong's connection closed
    }
  }

  private static void daemon(Runnable task) {
    Thread thread = new Thread(task, "local-hop");
    thread.setDaemon(true);
    thread.start();
  }
}
