package dev.armor.daemon;

import dev.armor.shim.control.ShimControlServer;
import dev.armor.shim.control.ShimRequestHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shim sockets of apps that run as another user than the daemon ({@code armor run --user NAME}). The daemon's own
 * socket is in its private run directory, which such an app cannot reach; each such user gets a socket of its own,
 * made on the first launch for it: {@code <tmp>/armor-shim-NODE-XXXX/NAME/shim.sock}, the first directory made by the
 * daemon with a name nobody can guess and only traversable by others (0711: no listing), the second owned by the user
 * and 0700, the socket file the user's, and the server taking only peers of that user ({@code SO_PEERCRED}). So that
 * user's apps reach the daemon, and no other user's can. All are removed when the daemon stops.
 */
final class UserShimSockets implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UserShimSockets.class);

  private final String node;
  private final Path daemonSocket;
  private final Supplier<ShimRequestHandler> handler;
  private final Map<String, ShimControlServer> servers = new HashMap<>();
  private Path base;
  private boolean closed;

  /** {@code handler}: the daemon's shim endpoint, asked for when the first socket is made. */
  UserShimSockets(String node, Path daemonSocket, Supplier<ShimRequestHandler> handler) {
    this.node = node;
    this.daemonSocket = daemonSocket;
    this.handler = handler;
  }

  /**
   * The socket the shim of an app run as {@code user} connects to: the daemon's own when {@code user} is empty or the
   * daemon's user, else that user's (made now if it is the first).
   *
   * @throws UncheckedIOException the user does not exist here, or the socket cannot be made
   */
  synchronized Path socketFor(String user) {
    if (!dev.armor.execution.RunAs.isOtherUser(user)) {
      return daemonSocket;
    }
    if (closed) {
      throw new UncheckedIOException(new IOException("the daemon is stopping"));
    }
    ShimControlServer server = servers.get(user);
    if (server != null) {
      return server.socketPath();
    }
    try {
      UserPrincipal owner = daemonSocket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
      if (base == null) {
        base = Files.createTempDirectory("armor-shim-" + node + "-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
      }
      Path directory = base.resolve(user);
      Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.setOwner(directory, owner);
      server = ShimControlServer.startFor(directory.resolve("shim.sock"), handler.get(), owner);
    } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
      throw new UncheckedIOException(new IOException("no user " + user + " on node " + node, e));
    } catch (IOException e) {
      throw new UncheckedIOException(new IOException("cannot make a shim socket for user " + user + ": " + e.getMessage(), e));
    }
    servers.put(user, server);
    log.info("daemon {}: shim socket for the apps of user {} at {}", node, user, server.socketPath());
    return server.socketPath();
  }

  @Override
  public synchronized void close() {
    closed = true;
    servers.values().forEach(ShimControlServer::close);
    servers.clear();
    if (base != null) { // closed by the daemon's stop and by its shutdown hook: removed once
      try (Stream<Path> files = Files.walk(base)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
      } catch (IOException e) {
        log.warn("daemon {}: could not remove {}: {}", node, base, e.getMessage());
      }
      base = null;
    }
  }
}
