package dev.armor.faults.apps;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code SequenceServer PORT [TRIGGER_DIR]}: echoes every byte of every connection back, one thread per connection.
 * Echo is deterministic, so a restarted copy fed the same input writes the same output (the replay policy's
 * condition). Once a file {@code stuck-PID} (this process's pid) appears in TRIGGER_DIR, every echo thread blocks for
 * good after its next read, before answering it: workers stuck while the process, and its shim, run on (the fault
 * suite's server-stuck). A restarted copy has another pid, so it is not stuck.
 *
 * <p>Its run history, for the suite's check that two instances never serve at once ({@code RunHistory}): the wall
 * time of its echoes, at most one line per 10 ms, appended to {@code history-PID} in TRIGGER_DIR (written at once,
 * not buffered, so a killed instance leaves what it did).
 *
 * <p>Prints {@code LISTENING pid=N port=P}, then {@code ACCEPTED n remote=ADDR} for each connection and
 * {@code CLOSED n how=eof|reset bytes=B} when one ends: the fault suite reads these to see whether a fault that
 * should not disturb the server (a client crash) did.
 */
public final class SequenceServer {

  private static volatile boolean stuck;
  private static java.nio.channels.FileChannel history;
  private static long lastRecorded;

  private SequenceServer() {}

  /** The file that makes the server {@code pid} stuck. */
  public static Path stuckTrigger(Path directory, long pid) {
    return directory.resolve("stuck-" + pid);
  }

  /** The file where the instance {@code pid} records when it served. */
  public static Path historyOf(Path directory, long pid) {
    return directory.resolve("history-" + pid);
  }

  /** Records that this instance served now (one line per 10 ms at most). */
  private static synchronized void served() throws IOException {
    long now = System.currentTimeMillis();
    if (history != null && now - lastRecorded >= 10) {
      lastRecorded = now;
      history.write(java.nio.ByteBuffer.wrap((now + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
  }

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    if (args.length > 1) {
      history = java.nio.channels.FileChannel.open(historyOf(Path.of(args[1]), ProcessHandle.current().pid()),
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND,
          java.nio.file.StandardOpenOption.WRITE);
      Path trigger = stuckTrigger(Path.of(args[1]), ProcessHandle.current().pid());
      Thread watch = new Thread(() -> {
        while (!Files.exists(trigger)) {
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            return;
          }
        }
        System.out.println("STUCK: every echo thread blocks after its next read");
        stuck = true;
      }, "stuck-trigger");
      watch.setDaemon(true);
      watch.start();
    }
    AtomicInteger connections = new AtomicInteger();
    try (ServerSocket server = new ServerSocket(port)) {
      System.out.println("LISTENING pid=" + ProcessHandle.current().pid() + " port=" + server.getLocalPort());
      while (true) {
        Socket socket = server.accept();
        int n = connections.incrementAndGet();
        System.out.println("ACCEPTED " + n + " remote=" + socket.getRemoteSocketAddress());
        Thread echo = new Thread(() -> echo(n, socket), "echo-" + n);
        echo.setDaemon(true);
        echo.start();
      }
    }
  }

  private static void echo(int n, Socket socket) {
    long bytes = 0;
    String how = "eof";
    try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
      socket.setTcpNoDelay(true);
      byte[] buffer = new byte[8192];
      int read;
      while ((read = in.read(buffer)) >= 0) {
        while (stuck) {
          Thread.sleep(60_000); // read, never answered
        }
        out.write(buffer, 0, read);
        bytes += read;
        served();
      }
    } catch (EOFException e) {
      how = "eof";
    } catch (InterruptedException e) {
      how = "interrupted";
    } catch (IOException e) {
      how = "reset (" + e.getMessage() + ")";
    }
    System.out.println("CLOSED " + n + " how=" + how + " bytes=" + bytes);
  }
}
