package dev.armor.shim.control;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's end of the shim control socket: accepts the shims of its node's apps and answers them through a
 * {@link ShimRequestHandler}. Start with {@link #start}; the protocol is described in {@link ShimWire}.
 *
 * <p>Design: a thread per connection. An app has one session connection for its lifetime and a handful of
 * request connections (one per app thread with a query in flight), and a node runs few apps, so threads stay
 * few; blocking reads keep each connection's code a straight line. A connection that breaks the protocol is
 * closed with a warning and nothing else is affected. Closing the server closes every connection without
 * reporting {@link ShimRequestHandler#sessionClosed}: the apps are not dead, the daemon is going away.
 */
public final class ShimControlServer implements AutoCloseable {
  private static final Logger LOG = System.getLogger(ShimControlServer.class.getName());

  private final Path socketPath;
  private final ServerSocketChannel listener;
  private final ShimRequestHandler handler;
  private final SessionRegistry sessions = new SessionRegistry();
  private final Set<ShimConnection> connections = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private ShimControlServer(Path socketPath, ServerSocketChannel listener, ShimRequestHandler handler) {
    this.socketPath = socketPath;
    this.listener = listener;
    this.handler = handler;
    this.acceptor = new Thread(this::acceptLoop, "armor-shim-control-accept " + socketPath);
    this.acceptor.setDaemon(true);
  }

  /**
   * Listens on the Unix domain socket {@code socketPath}: creates its parent directory (mode 0700) if missing and
   * replaces a stale socket file left by a dead daemon.
   *
   * @throws IOException the socket cannot be created, or a live server already answers at {@code socketPath}
   */
  public static ShimControlServer start(Path socketPath, ShimRequestHandler handler) throws IOException {
    Objects.requireNonNull(handler, "handler");
    Path path = socketPath.toAbsolutePath();
    prepareDirectory(path.getParent());
    removeStaleSocket(path);
    ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      listener.bind(UnixDomainSocketAddress.of(path));
    } catch (IOException e) {
      listener.close();
      throw new IOException("cannot listen on shim control socket " + path + ": " + e.getMessage(), e);
    }
    ShimControlServer server = new ShimControlServer(path, listener, handler);
    server.acceptor.start();
    return server;
  }

  /** The socket the shims connect to (the {@code socket=} argument of the agent). */
  public Path socketPath() {
    return socketPath;
  }

  /** Stops accepting, closes every shim connection and removes the socket file. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(listener);
    for (ShimConnection connection : connections) {
      connection.close();
    }
    try {
      Files.deleteIfExists(socketPath);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "could not delete shim control socket " + socketPath, e);
    }
  }

  boolean isClosed() {
    return closed;
  }

  void forget(ShimConnection connection) {
    connections.remove(connection);
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "accepting a shim connection on " + socketPath + " failed", e);
          pauseAfterFailedAccept(); // out of file descriptors, say: do not spin
        }
        continue;
      }
      serve(channel);
    }
  }

  private void serve(SocketChannel channel) {
    ShimConnection connection = new ShimConnection(channel, handler, sessions, this);
    connections.add(connection);
    if (closed) {
      connection.close();
      return;
    }
    Thread thread = new Thread(connection, "armor-shim-control-connection");
    thread.setDaemon(true);
    thread.start();
  }

  private static void pauseAfterFailedAccept() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void prepareDirectory(Path directory) throws IOException {
    if (directory == null || Files.isDirectory(directory)) {
      return;
    }
    Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** Deletes a socket file nobody answers on; refuses to touch a live socket or a file that is not a socket. */
  private static void removeStaleSocket(Path path) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return; // nothing there
    }
    if (!attributes.isOther()) {
      throw new IOException("shim control socket path " + path + " exists and is not a socket");
    }
    if (isLive(path)) {
      throw new IOException("another server already listens on shim control socket " + path);
    }
    Files.deleteIfExists(path);
  }

  private static boolean isLive(Path path) {
    try {
      SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      LOG.log(Level.TRACE, "close failed", e);
    }
  }
}
