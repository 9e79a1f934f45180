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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a 32-byte ping-pong costs through each kind and number of proxy hops, every process a JVM of its own as
 * under Armor: straight to an echo server, through one relay and through two, over TCP loopback or with the app's
 * hops (client to first relay, last relay to server) over Unix-domain sockets, with blocking relays (a thread per
 * direction, like the benchmark's plain dual proxy) and with {@link NettyPlainRelay} (Netty's epoll event loop,
 * like the daemons). Rounds interleave the topologies, so the machine's load falls on all alike; each round is the
 * p50 of 20,000 round trips after 5,000. It answers "what would make Armor's round trip cheaper than a dual
 * proxy's" (docs/PERFORMANCE.md, run 10): cheaper hops (Unix-domain sockets) or fewer of them. Not part of
 * {@code scripts/bench}; run by hand after {@code mvn package}, with Netty on the class path for the Netty rows:
 *
 * <pre>
 * java -cp benchmark/target/armor-benchmark-0.1.0-SNAPSHOT.jar:'cli/target/lib/*' dev.armor.bench.HopProbe [ROUNDS]
 * </pre>
 *
 * Uses 127.0.0.1 ports 9887-9899 and a temporary directory. The child roles: {@code echo ADDRESS} and {@code relay
 * LISTEN TARGET}, an address being {@code host:port} or a socket path.
 */
public final class HopProbe {

  private static final int WARMUP = 5_000;
  private static final int ROUNDS = 20_000;
  private static final int SIZE = 32;
  /** The compiler flags {@code scripts/armor} gives Armor's own JVMs, daemons included. */
  private static final List<String> C1 = List.of("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=0.1");

  private HopProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("echo")) {
      serve(listen(address(args[1])), accepted -> background(() -> pump(accepted, accepted)));
    } else if (args.length > 0 && args[0].equals("relay")) {
      SocketAddress target = address(args[2]);
      serve(listen(address(args[1])), accepted -> {
        SocketChannel upstream = connect(target);
        background(() -> pump(accepted, upstream));
        background(() -> pump(upstream, accepted));
      });
    } else {
      probe(args.length > 0 ? Integer.parseInt(args[0]) : 3);
    }
  }

  /** Starts every topology's processes, then measures them in turn, {@code rounds} times, and prints a table. */
  private static void probe(int rounds) throws Exception {
    Path dir = Files.createTempDirectory("armor-hop-probe");
    List<Child> children = new ArrayList<>();
    Map<String, String> entries = new LinkedHashMap<>();
    try {
      String echoTcp = "127.0.0.1:9891";
      String echoUnix = dir.resolve("echo.sock").toString();
      start(children, dir, "echo-tcp", "echo", echoTcp);
      start(children, dir, "echo-unix", "echo", echoUnix);
      entries.put("direct, TCP (2 sends)", echoTcp);
      entries.put("direct, Unix-domain (2 sends)", echoUnix);
      entries.put("1 blocking relay, TCP (4 sends)", start(children, dir, "r1", "relay", "127.0.0.1:9892", echoTcp));
      entries.put("1 blocking relay, Unix-domain (4 sends)",
          start(children, dir, "r1u", "relay", dir.resolve("r1u.sock").toString(), echoUnix));
      String second = start(children, dir, "r2b", "relay", "127.0.0.1:9894", echoTcp);
      entries.put("2 blocking relays, TCP (6 sends)", start(children, dir, "r2a", "relay", "127.0.0.1:9893", second));
      String secondUnix = start(children, dir, "r2ub", "relay", "127.0.0.1:9896", echoUnix);
      entries.put("2 blocking relays, app hops Unix-domain (6 sends)",
          start(children, dir, "r2ua", "relay", dir.resolve("r2ua.sock").toString(), secondUnix));
      if (nettyPresent()) {
        entries.put("1 Netty relay, TCP (4 sends)", startNetty(children, dir, "n1", 9897, echoTcp, List.of()));
        String nettySecond = startNetty(children, dir, "n2b", 9899, echoTcp, List.of());
        entries.put("2 Netty relays, TCP (6 sends)", startNetty(children, dir, "n2a", 9898, nettySecond, List.of()));
        entries.put("1 Netty relay, TCP, C1 (4 sends)", startNetty(children, dir, "n1c1", 9887, echoTcp, C1));
        String c1Second = startNetty(children, dir, "n2bc1", 9889, echoTcp, C1);
        entries.put("2 Netty relays, TCP, C1 (6 sends)", startNetty(children, dir, "n2ac1", 9888, c1Second, C1));
      } else {
        System.out.println("(Netty is not on the class path: no Netty rows)");
      }
      Map<String, double[]> p50s = new LinkedHashMap<>();
      entries.keySet().forEach(name -> p50s.put(name, new double[rounds]));
      for (int round = 0; round < rounds; round++) {
        for (Map.Entry<String, String> entry : entries.entrySet()) {
          p50s.get(entry.getKey())[round] = pingPong(address(entry.getValue()));
        }
      }
      print(p50s);
    } finally {
      children.forEach(Child::close);
      try (var files = Files.list(dir)) {
        for (Path file : files.toList()) {
          Files.delete(file);
        }
      }
      Files.delete(dir);
    }
  }

  private static void print(Map<String, double[]> p50s) {
    System.out.printf("%nRound trip of %d bytes, p50 per round (µs), and the median of the rounds; processes not"
        + " pinned, load average %s%n%n", SIZE, loadAverage());
    System.out.println("| path | p50 per round | median |");
    System.out.println("|---|---|---|");
    for (Map.Entry<String, double[]> row : p50s.entrySet()) {
      double[] values = row.getValue().clone();
      StringBuilder each = new StringBuilder();
      for (double value : values) {
        each.append(each.length() == 0 ? "" : ", ").append(String.format("%.0f", value));
      }
      Arrays.sort(values);
      System.out.printf("| %s | %s | %.0f |%n", row.getKey(), each, values[values.length / 2]);
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Starts this class in {@code role} as a JVM of its own; returns the address it serves once it listens. */
  private static String start(List<Child> children, Path dir, String name, String role, String listen,
      String... target) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(java(), "-cp", System.getProperty("java.class.path"),
        HopProbe.class.getName(), role, listen));
    command.addAll(List.of(target));
    Child child = Child.start(name, command, Map.of(), dir);
    children.add(child);
    child.awaitLine("READY", Duration.ofSeconds(30));
    return listen;
  }

  private static String startNetty(List<Child> children, Path dir, String name, int port, String target,
      List<String> jvmOptions) throws IOException, InterruptedException {
    String[] hostPort = target.split(":");
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), NettyPlainRelay.class.getName(),
        "127.0.0.1", "" + port, hostPort[0], hostPort[1]));
    Child child = Child.start(name, command, Map.of(), dir);
    children.add(child);
    child.awaitLine("READY", Duration.ofSeconds(30));
    return "127.0.0.1:" + port;
  }

  private static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static boolean nettyPresent() {
    try {
      Class.forName("io.netty.channel.epoll.Epoll", false, HopProbe.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static SocketAddress address(String text) {
    if (text.startsWith("/")) {
      return UnixDomainSocketAddress.of(text);
    }
    int colon = text.lastIndexOf(':');
    return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
  }

  private static double pingPong(SocketAddress target) throws IOException {
    try (SocketChannel channel = connect(target)) {
      ByteBuffer message = ByteBuffer.allocateDirect(SIZE);
      ByteBuffer reply = ByteBuffer.allocateDirect(SIZE);
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
    server.bind(address);
    System.out.println("READY");
    System.out.flush();
    return server;
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

  private static void serve(ServerSocketChannel server, Accepted handler) throws IOException {
    while (true) {
      SocketChannel accepted = server.accept();
      noDelay(accepted);
      handler.take(accepted);
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

  private static void background(Runnable task) {
    Thread thread = new Thread(task, "hop-probe");
    thread.setDaemon(true);
    thread.start();
  }
}
