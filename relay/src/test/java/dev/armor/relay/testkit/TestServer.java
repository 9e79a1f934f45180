package dev.armor.relay.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A plain blocking-socket server app on 127.0.0.1:ephemeral, a thread per connection, with what happened on each
 * connection recorded for assertions. {@link #crash()} simulates the process dying: every socket is closed
 * abruptly (TCP reset) and the listener goes away.
 */
public final class TestServer implements AutoCloseable {

  /** What the server app does with one accepted connection. */
  @FunctionalInterface
  public interface Behaviour {
    void serve(Socket socket, InputStream in, OutputStream out) throws IOException;
  }

  private final ServerSocket listener;
  private final Behaviour behaviour;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  /** Set before the listener closes: a connection accepted in the race with close() is reset, not served. */
  private volatile boolean crashed;

  private final Thread acceptor;
  /** Per connection, in accept order: the exception that ended it, or null if it ended normally. */
  public final Queue<Result> results = new ConcurrentLinkedQueue<>();

  public record Result(int remotePort, Throwable error) {}

  private TestServer(Behaviour behaviour) throws IOException {
    this.behaviour = behaviour;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::acceptLoop, "test-server-accept-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public static TestServer start(Behaviour behaviour) throws IOException {
    return new TestServer(behaviour);
  }

  /** Echoes every byte; on end of stream shuts its output (half-close) and ends. */
  public static TestServer echo() throws IOException {
    return start(
        (socket, in, out) -> {
          byte[] buf = new byte[64 * 1024];
          for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            out.write(buf, 0, n);
          }
          socket.shutdownOutput();
        });
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
  }

  public List<Socket> sockets() {
    return sockets;
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        if (crashed) {
          // close() races a blocked accept(): the kernel may still hand over a connection; a dead process would not
          socket.setSoLinger(true, 0);
          socket.close();
          return;
        }
        socket.setTcpNoDelay(true);
        sockets.add(socket);
        Thread worker = new Thread(() -> serve(socket), "test-server-conn-" + socket.getPort());
        worker.setDaemon(true);
        worker.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    Throwable error = null;
    try (socket) {
      behaviour.serve(socket, socket.getInputStream(), socket.getOutputStream());
    } catch (IOException | RuntimeException e) {
      error = e;
    }
    results.add(new Result(socket.getPort(), error));
  }

  /** The process dies: listener closed, every connection reset. */
  public void crash() throws IOException {
    stopListening();
    for (Socket socket : sockets) {
      try {
        socket.setSoLinger(true, 0);
      } catch (IOException e) {
        // closed by its own thread meanwhile
      }
      socket.close();
    }
  }

  /**
   * The process exits as a killed one does: listener closed, and each connection closed as the kernel closes a dead
   * process's sockets: with a FIN where the app had read all its input, a reset where some was left unread (no
   * {@code SO_LINGER} of 0 here, unlike {@link #crash()}, which resets them all).
   */
  public void exit() throws IOException {
    stopListening();
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  private void stopListening() throws IOException {
    crashed = true;
    listener.close();
    // the kernel keeps the listening socket until the thread blocked in accept() has left it: only then is the
    // address refusing, as a dead process's would be, before any connection of it is reset (which is what makes
    // the relay retry it)
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws IOException {
    crash();
  }
}
