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

/**
 * The benchmark's server: plain blocking sockets, one thread per connection, knows nothing of Armor.
 *
 * <p>The first byte a client sends picks the mode: {@code 'E'} echoes every later byte back; {@code 'R'} echoes
 * every byte, the {@code 'R'} included (the recovery client's messages each start with {@code 'R'}, so a new
 * server instance, which sees a re-attached connection afresh, still picks the right mode from the first held
 * message); {@code 'S'} is a sink that reads to end of stream, then answers the number of bytes it read (8 bytes)
 * and closes.
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

  private static void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      int mode = in.read();
      byte[] buffer = new byte[64 * 1024];
      if (mode == 'R') {
        out.write(mode);
      }
      if (mode == 'E' || mode == 'R') {
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
