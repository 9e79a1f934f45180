package dev.armor.bench;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.HdrHistogram.Histogram;

/**
 * The benchmark's client: one long-lived JVM per setup that takes every measurement inside itself and prints
 * {@code R key value} lines for the orchestrator. It knows nothing of Armor; under Armor it is wrapped with
 * {@code armor agent-opts}.
 *
 * <p>{@code BenchClient measure HOST PORT WARMUP ITERATIONS CONNECTS BULK_MILLIS}: latency, connect/close,
 * throughput. {@code BenchClient recover HOST PORT}: pings forever on one connection; each {@code KILLED nanos}
 * line on stdin (a {@link System#nanoTime()} of the orchestrator's SIGKILL, same clock on one machine) is
 * answered with {@code RECOVERED micros}: the time from the kill to the first echo of a ping sent after it,
 * which only a new server instance can have answered. {@code BenchClient idle HOST PORT N}: opens N echo
 * connections (each proven with one echoed byte), prints {@code READY}, and holds them idle until stdin closes.
 */
public final class BenchClient {

  static final int[] SIZES = {32, 64, 128, 512, 1024, 2048};

  private BenchClient() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress target = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
    if ("recover".equals(args[0])) {
      recover(target);
      return;
    }
    if ("idle".equals(args[0])) {
      idle(target, Integer.parseInt(args[3]));
      return;
    }
    int warmup = Integer.parseInt(args[3]);
    int iterations = Integer.parseInt(args[4]);
    int connects = Integer.parseInt(args[5]);
    long bulkMillis = Long.parseLong(args[6]);
    latency(target, warmup, iterations);
    connectClose(target, Math.max(10, connects / 5), connects);
    throughput(target, 1, bulkMillis);
    throughput(target, 8, bulkMillis);
    System.out.println("DONE");
  }

  private static Socket open(InetSocketAddress target, char mode) throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(target, 10_000);
    socket.getOutputStream().write(mode);
    return socket;
  }

  /** Ping-pong, one message in flight, per size; warm-up rounds are not recorded. */
  static void latency(InetSocketAddress target, int warmup, int iterations) throws IOException {
    try (Socket socket = open(target, 'E')) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      for (int size : SIZES) {
        byte[] message = new byte[size];
        byte[] reply = new byte[size];
        Arrays.fill(message, (byte) 'x');
        Histogram histogram = new Histogram(60_000_000_000L, 3);
        for (int i = 0; i < warmup + iterations; i++) {
          long t0 = System.nanoTime();
          out.write(message);
          in.readFully(reply);
          long t1 = System.nanoTime();
          if (i >= warmup) {
            histogram.recordValue(t1 - t0);
          }
        }
        String key = "latency." + size + ".";
        emit(key + "p50_us", histogram.getValueAtPercentile(50) / 1000.0);
        emit(key + "p99_us", histogram.getValueAtPercentile(99) / 1000.0);
        emit(key + "p999_us", histogram.getValueAtPercentile(99.9) / 1000.0);
        emit(key + "count", histogram.getTotalCount());
      }
    }
  }

  /**
   * Connect: from {@code connect()} until the first byte came back (the client sends its mode byte and one
   * byte; the echo proves the whole path to the server exists). Close: from {@code shutdownOutput()} until the
   * server's own close is seen (read returns -1), plus {@code close()}: the time for a close to cross the path.
   */
  static void connectClose(InetSocketAddress target, int warmup, int count) throws IOException {
    double[] connect = new double[count];
    double[] close = new double[count];
    for (int i = 0; i < warmup + count; i++) {
      long t0 = System.nanoTime();
      Socket socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(30_000);
      socket.connect(target, 10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(new byte[] {'E', 'c'});
      if (in.read() != 'c') {
        throw new IOException("connect " + i + ": no echo");
      }
      long t1 = System.nanoTime();
      socket.shutdownOutput();
      while (in.read() >= 0) {
        // drain until the server's close arrives
      }
      socket.close();
      long t2 = System.nanoTime();
      if (i >= warmup) {
        connect[i - warmup] = (t1 - t0) / 1000.0;
        close[i - warmup] = (t2 - t1) / 1000.0;
      }
    }
    emit("connect.mean_us", mean(connect));
    emit("connect.p50_us", median(connect));
    emit("close.mean_us", mean(close));
    emit("close.p50_us", median(close));
    emit("connect.count", count);
  }

  /** {@code parallel} connections each write 64 KiB buffers for {@code millis}, then wait for the sink's count. */
  static void throughput(InetSocketAddress target, int parallel, long millis) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Callable<Long>> tasks = new ArrayList<>();
      for (int i = 0; i < parallel; i++) {
        tasks.add(() -> sink(target, millis));
      }
      long t0 = System.nanoTime();
      long total = 0;
      for (Future<Long> result : pool.invokeAll(tasks)) {
        total += result.get();
      }
      long t1 = System.nanoTime();
      emit("throughput." + parallel + ".mb_s", total / 1e6 / ((t1 - t0) / 1e9));
    } finally {
      pool.shutdownNow();
    }
  }

  private static long sink(InetSocketAddress target, long millis) throws IOException {
    try (Socket socket = open(target, 'S')) {
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[64 * 1024];
      long sent = 0;
      long end = System.nanoTime() + millis * 1_000_000;
      while (System.nanoTime() < end) {
        out.write(buffer);
        sent += buffer.length;
      }
      socket.shutdownOutput();
      long received = new DataInputStream(socket.getInputStream()).readLong();
      if (received != sent) {
        throw new IOException("sink counted " + received + " bytes, client sent " + sent);
      }
      return sent;
    }
  }

  /**
   * See the class comment. Each ping is {@code 'R'} and a 7-byte sequence number (see {@link EchoServer} for
   * why); a ping lost with the old instance is replaced after a 50 ms read timeout.
   */
  static void recover(InetSocketAddress target) throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(target, 10_000);
    socket.setSoTimeout(50);
    OutputStream out = socket.getOutputStream();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    final long[] killedAt = {Long.MIN_VALUE};
    Thread commands = new Thread(() -> readKills(killedAt), "commands");
    commands.setDaemon(true);
    commands.start();
    System.out.println("READY");
    System.out.flush();
    long seq = 0;
    long[] sentAt = new long[1 << 16];
    ByteBuffer message = ByteBuffer.allocate(8);
    byte[] reply = new byte[8];
    while (true) {
      seq++;
      long sent = System.nanoTime();
      sentAt[(int) (seq & 0xffff)] = sent;
      out.write(message.clear().putLong(seq).put(0, (byte) 'R').array());
      long echoed;
      try {
        in.readFully(reply);
        echoed = ByteBuffer.wrap(reply).getLong() & 0x00ff_ffff_ffff_ffffL;
      } catch (SocketTimeoutException e) {
        continue;
      }
      long now = System.nanoTime();
      long kill;
      synchronized (killedAt) {
        kill = killedAt[0];
      }
      if (kill != Long.MIN_VALUE && echoed > seq - 0xffff && sentAt[(int) (echoed & 0xffff)] > kill) {
        synchronized (killedAt) {
          killedAt[0] = Long.MIN_VALUE;
        }
        System.out.println("RECOVERED " + (now - kill) / 1000.0);
        System.out.flush();
      }
      sleepMillis(1);
    }
  }

  /** Opens {@code count} connections, proves each with one echoed byte, then keeps them idle until stdin ends. */
  static void idle(InetSocketAddress target, int count) throws IOException {
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Socket socket = open(target, 'E');
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write('i');
      if (socket.getInputStream().read() != 'i') {
        throw new IOException("idle connection " + i + ": no echo");
      }
      sockets.add(socket);
    }
    System.out.println("READY " + sockets.size());
    System.out.flush();
    while (System.in.read() >= 0) {
      // hold the connections until the orchestrator closes our stdin
    }
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  private static void readKills(long[] killedAt) {
    try {
      BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.startsWith("KILLED ")) {
          synchronized (killedAt) {
            killedAt[0] = Long.parseLong(line.substring(7).trim());
          }
        }
      }
    } catch (IOException e) {
      // stdin closed: the orchestrator is done with us
    }
    System.exit(0);
  }

  private static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static double mean(double[] values) {
    return Arrays.stream(values).average().orElse(Double.NaN);
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void emit(String key, double value) {
    System.out.println("R " + key + " " + value);
    System.out.flush();
  }
}
