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
import java.nio.charset.StandardCharsets;
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
 * <p>{@code BenchClient rounds HOST PORT WARMUP ITERATIONS PROXY_PIDS}: the latency, with the CPU the proxy
 * processes (comma-separated pids, {@code -} for none) used per round trip, in rounds run on command (see {@link
 * #rounds}), for interleaving the setups. {@code BenchClient measure HOST PORT CONNECTS BULK_MILLIS
 * [CONNECT_WARMUP]}: connect/close (after CONNECT_WARMUP unrecorded connects, by default a fifth of CONNECTS),
 * throughput.
 * {@code BenchClient recover HOST PORT}: pings forever on one connection; each {@code KILLED nanos}
 * line on stdin (a {@link System#nanoTime()} of the orchestrator's SIGKILL, same clock on one machine) is
 * answered with {@code RECOVERED micros}: the time from the kill to the first echo of a ping sent after it,
 * which only a new server instance can have answered. {@code BenchClient idle HOST PORT N}: opens N echo
 * connections (each proven with one echoed byte), prints {@code READY}, and holds them idle until stdin closes.
 */
public final class BenchClient {

  static final int[] SIZES = {32, 64, 128, 512, 1024, 2048};
  /** How many of a client's first connects make {@code connect.first_p50_us}. */
  static final int FIRST_CONNECTS = 50;

  private BenchClient() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress target = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
    if ("recover".equals(args[0])) {
      recover(target);
      return;
    }
    if ("idle".equals(args[0])) {
      idle(target, Integer.parseInt(args[3]), args.length > 4 ? Integer.parseInt(args[4]) : 1,
          args.length > 5 ? args[5].charAt(0) : 'E');
      return;
    }
    if ("rounds".equals(args[0])) {
      rounds(target, Integer.parseInt(args[3]), Integer.parseInt(args[4]), ProxyCpu.of(args[5]));
      return;
    }
    if ("audio".equals(args[0])) {
      audio(target, Integer.parseInt(args[3]), Long.parseLong(args[4]));
      System.out.println("DONE");
      return;
    }
    int connects = Integer.parseInt(args[3]);
    long bulkMillis = Long.parseLong(args[4]);
    int connectWarmup = args.length > 5 ? Integer.parseInt(args[5]) : Math.max(10, connects / 5);
    connectClose(target, connectWarmup, connects);
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

  /**
   * The latency measurement in rounds, so that the orchestrator can interleave the setups (each round of each setup
   * in turn, all of them running meanwhile): ping-pong, one message in flight, per size, on one connection held
   * throughout. The proxies' CPU is read around each size's recorded round trips. Prints {@code READY} once connected;
   * each {@code round} line on stdin runs every size once ({@code warmup} unrecorded round trips in the first round,
   * a tenth of it in later ones, then {@code iterations} recorded) and answers {@code ROUND} with that round's p50 per
   * size (µs); {@code end} (or the end of stdin) prints the figures over all rounds: p50, p99 and p99.9 of every
   * recorded round trip, and the proxies' CPU per round trip (user plus kernel, and the kernel's part).
   */
  static void rounds(InetSocketAddress target, int warmup, int iterations, ProxyCpu proxies) throws IOException {
    Histogram[] all = new Histogram[SIZES.length];
    ProxyCpu.Sample[] cpu = new ProxyCpu.Sample[SIZES.length];
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (Socket socket = open(target, 'E')) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      System.out.println("READY");
      System.out.flush();
      int round = 0;
      for (String command; (command = commands.readLine()) != null && command.equals("round"); round++) {
        StringBuilder answer = new StringBuilder("ROUND");
        for (int s = 0; s < SIZES.length; s++) {
          Pass pass = pass(out, in, SIZES[s], round == 0 ? warmup : warmup / 10, iterations, proxies);
          all[s] = all[s] == null ? pass.histogram : add(all[s], pass.histogram);
          cpu[s] = cpu[s] == null || pass.cpu == null ? pass.cpu : cpu[s].plus(pass.cpu);
          answer.append(String.format(" %d:%.1f", SIZES[s], pass.histogram.getValueAtPercentile(50) / 1000.0));
        }
        System.out.println(answer);
        System.out.flush();
      }
    }
    for (int s = 0; s < SIZES.length; s++) {
      if (all[s] != null) {
        emitLatency(SIZES[s], all[s], cpu[s]);
      }
    }
    System.out.println("DONE");
    System.out.flush();
  }

  /** One size's recorded round trips, and the CPU the proxies used over them (null without proxies). */
  private record Pass(Histogram histogram, ProxyCpu.Sample cpu) {}

  private static Pass pass(OutputStream out, DataInputStream in, int size, int warmup, int iterations,
      ProxyCpu proxies) throws IOException {
    byte[] message = new byte[size];
    byte[] reply = new byte[size];
    Arrays.fill(message, (byte) 'x');
    Histogram histogram = new Histogram(60_000_000_000L, 3);
    ProxyCpu.Sample cpuBefore = null;
    for (int i = 0; i < warmup + iterations; i++) {
      if (i == warmup && !proxies.isEmpty()) {
        cpuBefore = proxies.sample();
      }
      long t0 = System.nanoTime();
      out.write(message);
      in.readFully(reply);
      long t1 = System.nanoTime();
      if (i >= warmup) {
        histogram.recordValue(t1 - t0);
      }
    }
    return new Pass(histogram, cpuBefore == null ? null : proxies.sample().minus(cpuBefore));
  }

  private static Histogram add(Histogram into, Histogram more) {
    into.add(more);
    return into;
  }

  /** A size's figures: p50, p99, p99.9 and count, and the proxies' CPU per round trip when it was read. */
  private static void emitLatency(int size, Histogram histogram, ProxyCpu.Sample cpu) {
    String key = "latency." + size + ".";
    long count = histogram.getTotalCount();
    if (cpu != null) {
      emit(key + "proxy_cpu_us", (cpu.userMicros() + cpu.kernelMicros()) / count);
      emit(key + "proxy_kernel_us", cpu.kernelMicros() / count);
    }
    emit(key + "p50_us", histogram.getValueAtPercentile(50) / 1000.0);
    emit(key + "p99_us", histogram.getValueAtPercentile(99) / 1000.0);
    emit(key + "p999_us", histogram.getValueAtPercentile(99.9) / 1000.0);
    emit(key + "count", count);
  }

  /**
   * Connect: from {@code connect()} until the first byte came back (the client sends its mode byte and one
   * byte; the echo proves the whole path to the server exists). Close: from {@code shutdownOutput()} until the
   * server's own close is seen (read returns -1), plus {@code close()}: the time for a close to cross the path.
   */
  static void connectClose(InetSocketAddress target, int warmup, int count) throws IOException {
    double[] connect = new double[count];
    double[] close = new double[count];
    // The first connects of this client, warm-up included: through a cluster that served none before, what a fresh
    // daemon costs (issue 19), reported apart from the steady state's.
    double[] first = new double[Math.min(FIRST_CONNECTS, warmup + count)];
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
      if (i < first.length) {
        first[i] = (t1 - t0) / 1000.0;
      }
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
    emit("connect.first_p50_us", median(first));
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
   * why); a ping lost with the old instance is replaced after a 50 ms read timeout. When the loss ends the connection
   * (under reconnect, a ping the killed instance had read and never answered ends it at once, as the crash does
   * without Armor), the client connects again, as a real one would, and goes on: the recovery is the first echo of a
   * ping sent after the kill, on whichever connection. {@code ENDED} says that a connection ended.
   */
  static void recover(InetSocketAddress target) throws IOException {
    Socket socket = connectForRecovery(target, 10_000);
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
      long echoed;
      try {
        socket.getOutputStream().write(message.clear().putLong(seq).put(0, (byte) 'R').array());
        new DataInputStream(socket.getInputStream()).readFully(reply);
        echoed = ByteBuffer.wrap(reply).getLong() & 0x00ff_ffff_ffff_ffffL;
      } catch (SocketTimeoutException e) {
        continue;
      } catch (IOException e) { // the connection ended with the lost instance: a new one, to the service's next
        System.out.println("ENDED " + e.getClass().getName());
        System.out.flush();
        socket.close();
        socket = connectForRecovery(target, 60_000);
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

  /** A connection for {@link #recover}, retried every 10 ms for up to {@code withinMillis} (the server restarting). */
  private static Socket connectForRecovery(InetSocketAddress target, long withinMillis) throws IOException {
    long deadline = System.nanoTime() + withinMillis * 1_000_000;
    while (true) {
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(target, 10_000);
        socket.setSoTimeout(50);
        return socket;
      } catch (IOException e) {
        socket.close();
        if (System.nanoTime() > deadline) {
          throw e;
        }
        sleepMillis(10);
      }
    }
  }

  /**
   * Opens {@code count} connections from {@code threads} threads (first byte {@code mode}), proves each with one
   * echoed byte, then keeps them idle until stdin ends. If opening fails part-way (file descriptors, say), it
   * keeps what it reached: {@code READY n} says how many, followed by the first error.
   */
  static void idle(InetSocketAddress target, int count, int threads, char mode) throws Exception {
    List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    List<Thread> openers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread opener = new Thread(() -> {
        while (failure.get() == null && next.getAndIncrement() < count) {
          try {
            Socket socket = open(target, mode);
            sockets.add(socket);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write('i');
            if (socket.getInputStream().read() != 'i') {
              throw new IOException("idle connection " + sockets.size() + ": no echo");
            }
          } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e);
          }
        }
      }, "opener-" + t);
      opener.start();
      openers.add(opener);
    }
    for (Thread opener : openers) {
      opener.join();
    }
    Throwable error = failure.get();
    System.out.println("READY " + sockets.size() + (error == null ? "" : " first error: " + error));
    System.out.flush();
    while (System.in.read() >= 0) {
      // hold the connections until the orchestrator closes our stdin
    }
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  /** One audio stream's playback, as a player with a {@link #PLAYBACK_BUFFER_MS} ms buffer would see it. */
  static final class Stream {
    static final double BYTES_PER_NS = EchoServer.AUDIO_CHUNK / (EchoServer.AUDIO_PERIOD_MS * 1e6);
    static final long PLAYBACK_BUFFER_NS = PLAYBACK_BUFFER_MS * 1_000_000L;
    long received;
    long playStart = Long.MIN_VALUE; // playback position 0 is played at this time; then BYTES_PER_NS
    long lastArrival;
    long maxGapNs;
    int underruns;
    int underrunsSteady;
    boolean ended;

    /** The bytes playback has consumed by {@code now}; more than received means the buffer ran dry. */
    double played(long now) {
      return playStart == Long.MIN_VALUE || now < playStart ? 0 : (now - playStart) * BYTES_PER_NS;
    }

    /** Bytes arrived at {@code now}: was the buffer dry before they came? Then re-buffer 200 ms. */
    void arrived(long now, int bytes, boolean steady) {
      if (playStart == Long.MIN_VALUE) {
        playStart = now + PLAYBACK_BUFFER_NS; // playback starts once 200 ms are buffered
      } else {
        maxGapNs = Math.max(maxGapNs, now - lastArrival);
        check(now, steady);
      }
      lastArrival = now;
      received += bytes;
    }

    void check(long now, boolean steady) {
      if (played(now) > received) {
        underruns++;
        if (steady) {
          underrunsSteady++;
        }
        // Re-buffer: what was received plays again from 200 ms from now.
        playStart = now + PLAYBACK_BUFFER_NS - (long) (received / BYTES_PER_NS);
      }
    }
  }

  static final int PLAYBACK_BUFFER_MS = 200;

  /**
   * {@code count} audio streams ({@link EchoServer}'s {@code 'A'}: 400 bytes every 50 ms each), opened by two
   * threads and all read by one selector thread, for {@code millis} after the last one was open. Each stream is
   * played as with a 200 ms buffer: playback starts 200 ms after its first bytes and consumes 8 bytes per ms; a
   * stream whose bytes had all been played when the next ones arrived ran dry (an underrun) and re-buffers
   * 200 ms. Counts underruns over the whole run and over the steady part (after every stream was open).
   */
  static void audio(InetSocketAddress target, int count, long millis) throws Exception {
    java.nio.channels.Selector selector = java.nio.channels.Selector.open();
    java.util.concurrent.ConcurrentLinkedQueue<java.nio.channels.SocketChannel> opened =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.CountDownLatch allOpen = new java.util.concurrent.CountDownLatch(2);
    for (int t = 0; t < 2; t++) {
      Thread opener = new Thread(() -> {
        try {
          while (next.getAndIncrement() < count) {
            java.nio.channels.SocketChannel channel = java.nio.channels.SocketChannel.open();
            channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(target);
            channel.write(ByteBuffer.wrap(new byte[] {'A'}));
            channel.configureBlocking(false);
            opened.add(channel);
            selector.wakeup();
          }
        } catch (IOException | RuntimeException e) {
          failure.compareAndSet(null, e);
        } finally {
          allOpen.countDown();
          selector.wakeup();
        }
      }, "opener-" + t);
      opener.setDaemon(true);
      opener.start();
    }
    List<Stream> streams = new ArrayList<>();
    List<java.nio.channels.SocketChannel> channels = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    long openedAt = Long.MAX_VALUE;
    long end = Long.MAX_VALUE;
    long t0 = System.nanoTime();
    while (true) {
      long now = System.nanoTime();
      if (openedAt == Long.MAX_VALUE && allOpen.getCount() == 0 && opened.isEmpty()) {
        openedAt = now;
        end = now + millis * 1_000_000;
        if (failure.get() != null) {
          System.err.println("audio: opened " + channels.size() + " of " + count + ": " + failure.get());
        }
      }
      if (now >= end) {
        break;
      }
      java.nio.channels.SocketChannel fresh;
      while ((fresh = opened.poll()) != null) {
        Stream stream = new Stream();
        fresh.register(selector, java.nio.channels.SelectionKey.OP_READ, stream);
        streams.add(stream);
        channels.add(fresh);
      }
      selector.select(Math.max(1, Math.min(100, (end - now) / 1_000_000)));
      now = System.nanoTime();
      boolean steady = now >= openedAt;
      for (java.nio.channels.SelectionKey key : selector.selectedKeys()) {
        Stream stream = (Stream) key.attachment();
        java.nio.channels.SocketChannel channel = (java.nio.channels.SocketChannel) key.channel();
        int total = 0;
        int n;
        while ((n = channel.read(buffer.clear())) > 0) {
          total += n;
        }
        if (total > 0) {
          stream.arrived(now, total, steady);
        }
        if (n < 0) {
          stream.ended = true;
          key.cancel();
        }
      }
      selector.selectedKeys().clear();
    }
    long now = System.nanoTime();
    long bytes = 0;
    long maxGap = 0;
    int total = 0;
    int steadyTotal = 0;
    int worst = 0;
    int withUnderrun = 0;
    int ended = 0;
    for (Stream stream : streams) {
      if (!stream.ended) {
        stream.check(now, true); // ran dry at the end, nothing arrived since
      }
      bytes += stream.received;
      maxGap = Math.max(maxGap, stream.maxGapNs);
      total += stream.underruns;
      steadyTotal += stream.underrunsSteady;
      worst = Math.max(worst, stream.underruns);
      withUnderrun += stream.underruns > 0 ? 1 : 0;
      ended += stream.ended ? 1 : 0;
    }
    for (java.nio.channels.SocketChannel channel : channels) {
      channel.close();
    }
    emit("audio.streams", streams.size());
    emit("audio.open_s", (openedAt - t0) / 1e9);
    emit("audio.steady_s", (now - openedAt) / 1e9);
    emit("audio.underruns", total);
    emit("audio.underruns_steady", steadyTotal);
    emit("audio.streams_with_underrun", withUnderrun);
    emit("audio.worst_stream_underruns", worst);
    emit("audio.max_gap_ms", maxGap / 1e6);
    emit("audio.ended_early", ended);
    emit("audio.mbytes", bytes / 1e6);
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
