package dev.armor.bench;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's server: plain blocking sockets, one thread per connection, knows nothing of Armor.
 *
 * <p>The first byte a client sends picks the mode: {@code 'E'} echoes every later byte back; {@code 'R'} echoes
 * every byte, the {@code 'R'} included (the recovery client's messages each start with {@code 'R'}, so a new
 * server instance, which sees a re-attached connection afresh, still picks the right mode from the first held
 * message); {@code 'S'} is a sink that reads to end of stream, then answers the number of bytes it read (8 bytes)
 * and closes; {@code 'I'} echoes like {@code 'E'} with a small buffer (the scale measurement's many idle
 * connections); {@code 'A'} is an audio-rate stream (400 bytes every 50 ms, paced by a few shared threads, until
 * the client goes).
 *
 * <p>Usage: {@code EchoServer PORT [HOST|any] [PIDFILE]}. With {@code any} (the default) it binds the wildcard
 * address, as an unmodified server would; under Armor that bind is the service registration. It writes its pid
 * to PIDFILE after binding (so the benchmark can kill each new instance) and prints {@code READY} with the times
 * it entered {@code main} and bound.
 */
public final class EchoServer {

  private EchoServer() {}

  public static void main(String[] args) throws IOException {
    long mainAt = System.currentTimeMillis();
    int port = Integer.parseInt(args[0]);
    String host = args.length > 1 ? args[1] : "any";
    ServerSocket server = "any".equals(host) ? new ServerSocket(port, 1024)
        : new ServerSocket(port, 1024, InetAddress.getByName(host));
    if (args.length > 2) {
      Path pidFile = Path.of(args[2]);
      Path tmp = pidFile.resolveSibling(pidFile.getFileName() + ".tmp");
      Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()), StandardCharsets.US_ASCII);
      Files.move(tmp, pidFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    long boundAt = System.currentTimeMillis();
    // Wall-clock milestones (ms since the epoch) for the recovery breakdown: main() entered, bind returned (under
    // Armor: registered with the FTM). Not the process start: the JDK derives it from the boot time, which Linux
    // gives in whole seconds.
    System.out.println("READY " + ((InetSocketAddress) server.getLocalSocketAddress()).getPort() + " main=" + mainAt
        + " bound=" + boundAt);
    System.out.flush();
    while (true) {
      Socket socket = server.accept();
      Thread thread = new Thread(() -> serve(socket), "conn-" + socket.getPort());
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** Paces every audio stream ({@code 'A'}): a few threads for all of them, not one per connection. */
  private static final ScheduledExecutorService PACER = Executors.newScheduledThreadPool(4, runnable -> {
    Thread thread = new Thread(runnable, "audio-pacer");
    thread.setDaemon(true);
    return thread;
  });

  private static void serve(Socket socket) {
    int mode;
    try {
      socket.setTcpNoDelay(true);
      mode = socket.getInputStream().read();
      if (mode == 'A') {
        audio(socket);
        return;
      }
    } catch (IOException e) {
      closeQuietly(socket);
      return;
    }
    serve(socket, mode);
  }

  /**
   * An audio-rate stream: {@link #AUDIO_CHUNK} bytes every {@link #AUDIO_PERIOD_MS} ms (8 KB/s), at a fixed rate
   * (a late write is followed by catch-up writes, as a real source would produce them), until the client goes.
   */
  static final int AUDIO_CHUNK = 400;
  static final int AUDIO_PERIOD_MS = 50;

  private static void audio(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    byte[] chunk = new byte[AUDIO_CHUNK];
    PACER.scheduleAtFixedRate(() -> {
      try {
        out.write(chunk);
      } catch (IOException e) {
        closeQuietly(socket);
        throw new IllegalStateException("stream over", e); // cancels this stream's schedule
      }
    }, 0, AUDIO_PERIOD_MS, TimeUnit.MILLISECONDS);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  private static void serve(Socket socket, int mode) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[mode == 'I' ? 256 : 64 * 1024];
      if (mode == 'R') {
        out.write(mode);
      }
      if (mode == 'E' || mode == 'R' || mode == 'I') {
        int n;
        while ((n = in.read(buffer)) > 0) {
          out.write(buffer, 0, n);
        }
      } else if (mode == 'S') {
        long total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
          total += n;
        }
        DataOutputStream data = new DataOutputStream(out);
        data.writeLong(total);
        data.flush();
      }
    } catch (IOException e) {
      // The client went away (or the benchmark ended): nothing to do for a benchmark server.
    }
  }
}
