package dev.armor.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;

/**
 * A diagnostic twin of the benchmark's audio measurement ({@link EchoServer}'s {@code 'A'} streams read by
 * {@link BenchClient}'s audio mode) that says where a late chunk was late: each 400-byte chunk carries the time it
 * was due and the time the server wrote it ({@link System#nanoTime()}: one machine, one monotonic clock), so the
 * client splits each chunk's delay into the server's own lateness (due to written) and the path's (written to read:
 * kernel, proxies and the client's own reading). Not part of {@code scripts/bench}; run by hand:
 *
 * <pre>
 * java -cp benchmark/target/classes:HdrHistogram.jar dev.armor.bench.AudioProbe server PORT [HOST|any]
 * java -cp ... dev.armor.bench.AudioProbe client HOST PORT STREAMS MILLIS
 * </pre>
 *
 * The client prints the benchmark's underrun figures (same 200 ms playback model), percentiles of the three delays,
 * and a timeline of the worst path delay per 100 ms of the steady part with how many streams had a chunk more than
 * 100 ms late in it (a stall of one proxy thread shows as many streams late in the same window).
 */
public final class AudioProbe {

  static final int CHUNK = EchoServer.AUDIO_CHUNK;
  static final long PERIOD_NS = EchoServer.AUDIO_PERIOD_MS * 1_000_000L;

  private AudioProbe() {}

  public static void main(String[] args) throws Exception {
    if ("server".equals(args[0])) {
      server(Integer.parseInt(args[1]), args.length > 2 ? args[2] : "any");
    } else {
      client(new InetSocketAddress(args[1], Integer.parseInt(args[2])), Integer.parseInt(args[3]),
          Long.parseLong(args[4]));
    }
  }

  // ---------------------------------------------------------------- server

  private static final ScheduledExecutorService PACER = Executors.newScheduledThreadPool(4, runnable -> {
    Thread thread = new Thread(runnable, "audio-pacer");
    thread.setDaemon(true);
    return thread;
  });

  static void server(int port, String host) throws IOException {
    ServerSocket server = "any".equals(host) ? new ServerSocket(port, 1024)
        : new ServerSocket(port, 1024, InetAddress.getByName(host));
    System.out.println("READY " + server.getLocalPort());
    System.out.flush();
    while (true) {
      Socket socket = server.accept();
      socket.setTcpNoDelay(true);
      stream(socket);
    }
  }

  /** As {@link EchoServer}'s audio mode, at a fixed rate from 4 shared threads; each chunk stamped. */
  private static void stream(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    byte[] chunk = new byte[CHUNK];
    ByteBuffer stamp = ByteBuffer.wrap(chunk);
    long start = System.nanoTime();
    long[] index = {0};
    PACER.scheduleAtFixedRate(() -> {
      try {
        stamp.putLong(0, start + index[0]++ * PERIOD_NS).putLong(8, System.nanoTime());
        out.write(chunk);
      } catch (IOException e) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // nothing to do
        }
        throw new IllegalStateException("stream over", e);
      }
    }, 0, EchoServer.AUDIO_PERIOD_MS, TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- client

  /** One stream: the partial chunk being reassembled, and the benchmark's playback model. */
  static final class Stream {
    final ByteBuffer partial = ByteBuffer.allocate(CHUNK);
    final BenchClient.Stream playback = new BenchClient.Stream();
  }

  static void client(InetSocketAddress target, int count, long millis) throws Exception {
    Selector selector = Selector.open();
    ConcurrentLinkedQueue<SocketChannel> opened = new ConcurrentLinkedQueue<>();
    AtomicInteger next = new AtomicInteger();
    CountDownLatch allOpen = new CountDownLatch(2);
    for (int t = 0; t < 2; t++) {
      Thread opener = new Thread(() -> {
        try {
          while (next.getAndIncrement() < count) {
            SocketChannel channel = SocketChannel.open();
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(target);
            channel.configureBlocking(false);
            opened.add(channel);
            selector.wakeup();
          }
        } catch (IOException e) {
          System.err.println("open failed: " + e);
        } finally {
          allOpen.countDown();
          selector.wakeup();
        }
      }, "opener-" + t);
      opener.setDaemon(true);
      opener.start();
    }
    Histogram serverLate = new Histogram(60_000_000_000L, 3);
    Histogram path = new Histogram(60_000_000_000L, 3);
    Histogram total = new Histogram(60_000_000_000L, 3);
    Histogram loopGap = new Histogram(60_000_000_000L, 3);
    List<Stream> streams = new ArrayList<>();
    List<SocketChannel> channels = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    long openedAt = Long.MAX_VALUE;
    long end = Long.MAX_VALUE;
    int windows = (int) (millis / 100) + 2;
    long[] worstPath = new long[windows];
    long[] worstServer = new long[windows];
    int[] lateStreams = new int[windows];
    int[] lastLateWindow = new int[count + 1];
    long lastLoop = System.nanoTime();
    while (true) {
      long now = System.nanoTime();
      if (openedAt == Long.MAX_VALUE && allOpen.getCount() == 0 && opened.isEmpty()) {
        openedAt = now;
        end = now + millis * 1_000_000;
      }
      if (now >= end) {
        break;
      }
      SocketChannel fresh;
      while ((fresh = opened.poll()) != null) {
        Stream stream = new Stream();
        fresh.register(selector, SelectionKey.OP_READ, streams.size());
        streams.add(stream);
        channels.add(fresh);
      }
      selector.select(Math.max(1, Math.min(100, (end - now) / 1_000_000)));
      now = System.nanoTime();
      boolean steady = now >= openedAt;
      if (steady) {
        loopGap.recordValue(now - lastLoop);
      }
      lastLoop = now;
      for (SelectionKey key : selector.selectedKeys()) {
        int id = (Integer) key.attachment();
        Stream stream = streams.get(id);
        SocketChannel channel = (SocketChannel) key.channel();
        int got = 0;
        int n;
        while ((n = channel.read(buffer.clear())) > 0) {
          got += n;
          buffer.flip();
          long readAt = System.nanoTime();
          while (buffer.hasRemaining()) {
            int take = Math.min(buffer.remaining(), stream.partial.remaining());
            ByteBuffer slice = buffer.slice().limit(take);
            stream.partial.put(slice);
            buffer.position(buffer.position() + take);
            if (!stream.partial.hasRemaining()) {
              long due = stream.partial.getLong(0);
              long written = stream.partial.getLong(8);
              stream.partial.clear();
              if (steady) {
                serverLate.recordValue(Math.max(0, written - due));
                path.recordValue(Math.max(0, readAt - written));
                total.recordValue(Math.max(0, readAt - due));
                int w = (int) ((readAt - openedAt) / 100_000_000L);
                if (w >= 0 && w < windows) {
                  worstPath[w] = Math.max(worstPath[w], readAt - written);
                  worstServer[w] = Math.max(worstServer[w], written - due);
                  if (readAt - written > 100_000_000L && lastLateWindow[id] != w + 1) {
                    lastLateWindow[id] = w + 1;
                    lateStreams[w]++;
                  }
                }
              }
            }
          }
        }
        if (got > 0) {
          stream.playback.arrived(now, got, steady);
        }
        if (n < 0) {
          stream.playback.ended = true;
          key.cancel();
        }
      }
      selector.selectedKeys().clear();
    }
    long now = System.nanoTime();
    int underruns = 0;
    int withUnderrun = 0;
    long maxGap = 0;
    for (Stream stream : streams) {
      if (!stream.playback.ended) {
        stream.playback.check(now, true);
      }
      underruns += stream.playback.underruns;
      withUnderrun += stream.playback.underruns > 0 ? 1 : 0;
      maxGap = Math.max(maxGap, stream.playback.maxGapNs);
    }
    for (SocketChannel channel : channels) {
      channel.close();
    }
    System.out.printf("streams %d, open %.2f s, underruns %d (%d streams), longest gap %.1f ms%n", streams.size(),
        (openedAt - (end - millis * 1_000_000)) / 1e9, underruns, withUnderrun, maxGap / 1e6);
    print("server late (due -> written)", serverLate);
    print("path (written -> read)", path);
    print("total (due -> read)", total);
    print("client loop gap", loopGap);
    StringBuilder timeline = new StringBuilder("timeline, per 100 ms: worst path ms / worst server ms / streams >100 ms"
        + " late on the path (only windows with a path delay over 50 ms)\n");
    for (int w = 0; w < windows; w++) {
      if (worstPath[w] > 50_000_000L) {
        timeline.append(String.format("  %5.1f s: %6.1f / %6.1f / %d%n", w / 10.0, worstPath[w] / 1e6,
            worstServer[w] / 1e6, lateStreams[w]));
      }
    }
    System.out.print(timeline);
  }

  private static void print(String what, Histogram h) {
    System.out.printf("%-30s n %8d  p50 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms%n", what, h.getTotalCount(),
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6,
        h.getMaxValue() / 1e6);
  }
}
