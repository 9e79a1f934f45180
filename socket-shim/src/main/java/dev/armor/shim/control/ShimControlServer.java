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
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The daemon's end of the shim control socket: accepts the shims of its node's apps and answers them through a
 * {@link ShimRequestHandler}. Start with {@link #start}; the protocol is described in {@link ShimWire}.
 *
 * <p>Design: a thread per connection. An app has one session connection for its lifetime and a handful of
 * request connections (one per app thread with a query in flight), and a node runs few apps, so threads stay
 * few; blocking reads keep each connection's code a straight line. A connection that breaks the protocol is
 * closed with a warning and nothing else is affected. Closing the server closes every connection without
 * reporting {@link ShimRequestHandler#sessionClosed}: the apps are not dead, the daemon is going away.
 *
 * <p>Bounded: only a process of the daemon's own user is served, or of the user a socket was started for ({@link
 * #startFor}) (the socket's directory is 0700, and the peer's credentials are checked too, {@code SO_PEERCRED}); a
 * connection must send its HELLO within {@link #HELLO_TIMEOUT}
 * or is closed; at most {@link #MAX_CONNECTIONS} are open at once (a thread each), more are closed at once. Refusals
 * are logged at most once a second.
 */
public final class ShimControlServer implements AutoCloseable {
  private static final Logger LOG = System.getLogger(ShimControlServer.class.getName());

  /** Long enough for an app's JVM under load between its connect and its first frame; a silent peer goes after it. */
  static final Duration HELLO_TIMEOUT = Duration.ofSeconds(10);
  /**
   * An app has one session, one peers connection and a request connection per thread with a query in flight: a node's
   * apps stay far below this; a process that opens connections without end meets it.
   */
  static final int MAX_CONNECTIONS = 4096;

  private final Path socketPath;
  private final ServerSocketChannel listener;
  private final Duration helloTimeout;
  private final int maxConnections;
  private final String user;
  private final ScheduledExecutorService deadlines;
  private final AtomicLong lastRefusalLogged = new AtomicLong(System.nanoTime() - 1_000_000_000L);
  private final AtomicLong unloggedRefusals = new AtomicLong();
  private final ShimRequestHandler handler;
  private final SessionRegistry sessions = new SessionRegistry();
  private final Set<ShimConnection> connections = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private ShimControlServer(Path socketPath, ServerSocketChannel listener, ShimRequestHandler handler,
      Duration helloTimeout, int maxConnections, String user) {
    this.socketPath = socketPath;
    this.listener = listener;
    this.handler = handler;
    this.helloTimeout = helloTimeout;
    this.maxConnections = maxConnections;
    this.user = user;
    this.deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "armor-shim-control-hello-deadlines");
      thread.setDaemon(true);
      return thread;
    });
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
    return start(socketPath, handler, HELLO_TIMEOUT, MAX_CONNECTIONS, System.getProperty("user.name"));
  }

  /**
   * As {@link #start(Path, ShimRequestHandler)}, serving the apps of {@code user} instead of the daemon's own (apps
   * launched with {@code armor run --user}): the socket file is made that user's, and only a peer of that user is
   * served. The caller makes the socket's directory, that user's alone.
   */
  public static ShimControlServer startFor(Path socketPath, ShimRequestHandler handler,
      java.nio.file.attribute.UserPrincipal user) throws IOException {
    ShimControlServer server = start(socketPath, handler, HELLO_TIMEOUT, MAX_CONNECTIONS, user.getName());
    try {
      Files.setOwner(server.socketPath(), user);
    } catch (IOException e) {
      server.close();
      throw new IOException("cannot give shim control socket " + socketPath + " to user " + user + ": " + e, e);
    }
    return server;
  }

  static ShimControlServer start(Path socketPath, ShimRequestHandler handler, Duration helloTimeout, int maxConnections)
      throws IOException {
    return start(socketPath, handler, helloTimeout, maxConnections, System.getProperty("user.name"));
  }

  private static ShimControlServer start(Path socketPath, ShimRequestHandler handler, Duration helloTimeout,
      int maxConnections, String user) throws IOException {
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
    ShimControlServer server = new ShimControlServer(path, listener, handler, helloTimeout, maxConnections, user);
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
    deadlines.shutdownNow();
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

  /** Connections open now (tests). */
  int openConnections() {
    return connections.size();
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
    String stranger = strangerUser(channel);
    if (stranger != null) {
      refused("a process of user " + stranger + " (this daemon serves user " + user + "'s apps only)");
      closeQuietly(channel);
      return;
    }
    if (connections.size() >= maxConnections) {
      refused("a connection beyond the " + maxConnections + " open already");
      closeQuietly(channel);
      return;
    }
    ShimConnection connection = new ShimConnection(channel, handler, sessions, this);
    connections.add(connection);
    if (closed) {
      connection.close();
      return;
    }
    deadlines.schedule(() -> {
      if (!connection.introduced()) {
        refused("a connection that sent no HELLO within " + helloTimeout.toMillis() + " ms");
        connection.close();
      }
    }, helloTimeout.toMillis(), TimeUnit.MILLISECONDS);
    Thread thread = new Thread(connection, "armor-shim-control-connection");
    thread.setDaemon(true);
    thread.start();
  }

  /** The peer's user if it is not the one this socket serves (SO_PEERCRED), else null. */
  private String strangerUser(SocketChannel channel) {
    try {
      UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
      String name = peer.user().getName();
      return name.equals(user) ? null : name;
    } catch (IOException | UnsupportedOperationException e) {
      return null; // no credentials to read on this platform: the directory's 0700 is the check
    }
  }

  /**
   * Says a refusal at most once a second, with how many there were since: a flood costs one line a second. (The
   * daemon's other ports use dev.armor.security.RefusalLog; this module is also the agent an app loads, and takes no
   * dependency.)
   */
  private void refused(String what) {
    long now = System.nanoTime();
    long last = lastRefusalLogged.get();
    if (now - last < 1_000_000_000L || !lastRefusalLogged.compareAndSet(last, now)) {
      unloggedRefusals.incrementAndGet();
      return;
    }
    long skipped = unloggedRefusals.getAndSet(0);
    LOG.log(Level.WARNING, "shim control socket " + socketPath + " refused " + what
        + (skipped == 0 ? "" : " (and " + skipped + " other refusal(s) since the last one logged)"));
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
