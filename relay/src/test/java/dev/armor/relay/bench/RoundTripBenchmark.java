package dev.armor.relay.bench;

import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestConfigs;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Not a test: {@code main} measures what a client app sees through two relays in one JVM, against the same app
 * reached directly. Ping-pong with one message in flight (p50 / p99 / p99.9), then one-connection bulk throughput.
 * Run: {@code mvn -q -pl relay test-compile} then
 * {@code java -cp <test classpath> [-Darmor.test.links=dedicated|multiplexed] dev.armor.relay.bench.RoundTripBenchmark
 * [rounds [reconnect|replay [bulk-MiB]]]}:
 * the policy the relayed connections get (replay: every client byte is also copied to the replay log and every
 * delivered byte hashed; the replay log overflows its 8 MiB early in the bulk run, which then measures the
 * fallback, so the bulk run under replay raises replay-log-bytes to the bulk size).
 * Say how processes were placed when quoting numbers: everything here shares one JVM and the machine's cores.
 */
public final class RoundTripBenchmark {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7000);

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    RecoveryPolicy policy =
        args.length > 1 ? RecoveryPolicy.valueOf(args[1].toUpperCase(java.util.Locale.ROOT)) : RecoveryPolicy.RECONNECT;
    long bulk = (args.length > 2 ? Long.parseLong(args[2]) : 1024) << 20;
    System.out.println("recovery policy of the relayed connections: " + policy + "; links: " + TestConfigs.links());
    try (TestServer echo = TestServer.echo();
        RelayPair pair = new RelayPair()) {
      pair.policy = policy;
      pair.expose(SERVICE, echo);
      for (int size : new int[] {32, 2048}) {
        try (Socket direct = new Socket(echo.address().getAddress(), echo.address().getPort());
            Socket relayed = pair.connect(SERVICE)) {
          direct.setTcpNoDelay(true);
          report("direct ", size, pingPong(direct, size, rounds));
          report("relayed", size, pingPong(relayed, size, rounds));
        }
      }
      int connects = Math.max(200, rounds / 10);
      report("connect+first byte direct ", 1, connectFirstByte(() -> new Socket(echo.address().getAddress(),
          echo.address().getPort()), connects));
      report("connect+first byte relayed", 1, connectFirstByte(() -> pair.connect(SERVICE), connects));
    }
    int logBytes = (int) Math.min(Integer.MAX_VALUE, bulk + (1 << 20));
    try (TestServer sink = TestServer.start((socket, in, out) -> in.transferTo(OutputStream.nullOutputStream()));
        RelayPair pair = new RelayPair(c -> c.withReplayLogBytes(logBytes))) {
      pair.policy = policy;
      pair.expose(SERVICE, sink);
      try (Socket direct = new Socket(sink.address().getAddress(), sink.address().getPort());
          Socket relayed = pair.connect(SERVICE)) {
        System.out.printf("bulk direct : %.2f GB/s%n", bulk(direct, bulk));
        System.out.printf("bulk relayed: %.2f GB/s%n", bulk(relayed, bulk));
      }
    }
    // the other way: the server streams, the client reads (under replay every delivered byte is hashed)
    try (TestServer source =
            TestServer.start(
                (socket, in, out) -> {
                  byte[] chunk = new byte[256 * 1024];
                  for (long sent = 0; sent < bulk; sent += chunk.length) {
                    out.write(chunk);
                  }
                });
        RelayPair pair = new RelayPair()) {
      pair.policy = policy;
      pair.expose(SERVICE, source);
      try (Socket direct = new Socket(source.address().getAddress(), source.address().getPort());
          Socket relayed = pair.connect(SERVICE)) {
        System.out.printf("download direct : %.2f GB/s%n", download(direct, bulk));
        System.out.printf("download relayed: %.2f GB/s%n", download(relayed, bulk));
      }
    }
  }

  private interface Connector {
    Socket connect() throws IOException;
  }

  /** From connect() to the echo of a first byte, a new connection each time (closed after; half warm-up). */
  private static long[] connectFirstByte(Connector connector, int connects) throws IOException {
    int warmup = connects / 2;
    long[] nanos = new long[connects];
    for (int i = -warmup; i < connects; i++) {
      long start = System.nanoTime();
      try (Socket socket = connector.connect()) {
        socket.setTcpNoDelay(true);
        socket.getOutputStream().write(1);
        if (socket.getInputStream().read() != 1) {
          throw new IOException("no echo");
        }
        if (i >= 0) {
          nanos[i] = System.nanoTime() - start;
        }
      }
    }
    Arrays.sort(nanos);
    return nanos;
  }

  private static long[] pingPong(Socket socket, int size, int rounds) throws IOException {
    byte[] message = new byte[size];
    byte[] reply = new byte[size];
    OutputStream out = socket.getOutputStream();
    InputStream in = socket.getInputStream();
    int warmup = rounds / 2;
    long[] nanos = new long[rounds];
    for (int i = -warmup; i < rounds; i++) {
      long start = System.nanoTime();
      out.write(message);
      if (in.readNBytes(reply, 0, size) != size) {
        throw new IOException("end of stream");
      }
      if (i >= 0) {
        nanos[i] = System.nanoTime() - start;
      }
    }
    Arrays.sort(nanos);
    return nanos;
  }

  private static void report(String path, int size, long[] sorted) {
    System.out.printf(
        "%s %5d B: p50 %4d us, p99 %5d us, p99.9 %5d us%n",
        path,
        size,
        sorted[sorted.length / 2] / 1000,
        sorted[(int) (sorted.length * 0.99)] / 1000,
        sorted[(int) (sorted.length * 0.999)] / 1000);
  }

  private static double download(Socket socket, long total) throws IOException {
    long start = System.nanoTime();
    byte[] buf = new byte[256 * 1024];
    long read = 0;
    InputStream in = socket.getInputStream();
    for (int n = in.read(buf); n >= 0 && read < total; n = in.read(buf)) {
      read += n;
    }
    if (read < total) {
      throw new IOException("end of stream after " + read + " of " + total + " bytes");
    }
    return total / ((System.nanoTime() - start) / 1e9) / 1e9;
  }

  private static double bulk(Socket socket, long total) throws Exception {
    long start = System.nanoTime();
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try {
                byte[] chunk = new byte[256 * 1024];
                OutputStream out = socket.getOutputStream();
                for (long sent = 0; sent < total; sent += chunk.length) {
                  out.write(chunk);
                }
                socket.shutdownOutput();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    socket.getInputStream().read(); // the sink closes after reading everything
    writer.join();
    return total / ((System.nanoTime() - start) / 1e9) / 1e9;
  }
}
