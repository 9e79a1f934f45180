package dev.armor.daemon;

import dev.armor.elements.wire.ArmorMessage;
import dev.armor.execution.process.ArmorChannel;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's end of the Execution ARMOR processes' channels: a Unix domain socket in the daemon's private run
 * directory (mode 0700, so only the daemon's user can connect). Each ARMOR process connects once and introduces
 * itself with a {@code HELLO}; until then nothing it sends is accepted. A channel that breaks the format is
 * closed alone (see {@link ArmorChannel}).
 */
final class ArmorChannelServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ArmorChannelServer.class);

  /** What the daemon does with an identified ARMOR process's channel. */
  interface Listener {
    /** An ARMOR process said who it is; the listener accepts the channel or closes it. */
    void hello(ArmorChannel channel, String armorId, long pid);

    /** A message from the ARMOR {@code armorId}; {@code reply} is null for a one-way message. */
    void received(String armorId, ArmorMessage message, Consumer<ArmorMessage> reply);

    /** The channel of ARMOR {@code armorId} closed. */
    void closed(ArmorChannel channel, String armorId, String reason);
  }

  private final Path socketPath;
  private final ServerSocketChannel server;
  private final Listener listener;
  private final Set<ArmorChannel> channels = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private ArmorChannelServer(Path socketPath, ServerSocketChannel server, Listener listener) {
    this.socketPath = socketPath;
    this.server = server;
    this.listener = listener;
  }

  /** Listens on {@code socketPath}, whose directory the daemon already made private. */
  static ArmorChannelServer start(Path socketPath, Listener listener) throws IOException {
    // The shim endpoint started first and refused to start beside a live daemon: a file here is stale.
    Files.deleteIfExists(socketPath);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socketPath));
    } catch (IOException e) {
      server.close();
      throw new IOException("cannot listen on the Execution ARMOR socket " + socketPath + ": " + e.getMessage(), e);
    }
    ArmorChannelServer channelServer = new ArmorChannelServer(socketPath, server, listener);
    Thread acceptor = new Thread(channelServer::acceptLoop, "armor-channel-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return channelServer;
  }

  Path socketPath() {
    return socketPath;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        SocketChannel socket = server.accept();
        Identified handler = new Identified();
        ArmorChannel channel = ArmorChannel.open(socket, "an Execution ARMOR process", handler);
        handler.channel.complete(channel);
        channels.add(channel);
        if (closed) {
          channel.close("the daemon is stopping");
        }
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          log.warn("accepting an Execution ARMOR process on {} failed: {}", socketPath, e.getMessage());
          pause();
        }
      }
    }
  }

  /** One channel's handler: it knows its ARMOR once the HELLO came. */
  private final class Identified implements ArmorChannel.Handler {
    private final java.util.concurrent.CompletableFuture<ArmorChannel> channel = new java.util.concurrent.CompletableFuture<>();
    private volatile String armorId;

    @Override
    public void hello(ArmorChannel helloChannel, String id, long pid) {
      if (armorId != null) {
        helloChannel.close("a second HELLO (from " + id + ") on the channel of ARMOR " + armorId);
        return;
      }
      armorId = id;
      listener.hello(helloChannel, id, pid);
    }

    @Override
    public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {
      String id = armorId;
      if (id == null) {
        log.warn("an Execution ARMOR process sent a message before its HELLO; closing its channel");
        channel.thenAccept(c -> c.close("a message before the HELLO"));
        return;
      }
      listener.received(id, message, reply);
    }

    @Override
    public void closed(ArmorChannel closedChannel, String reason) {
      channels.remove(closedChannel);
      listener.closed(closedChannel, armorId, reason);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing {} failed", socketPath, e);
    }
    for (ArmorChannel channel : channels) {
      channel.close("the daemon is stopping");
    }
    try {
      Files.deleteIfExists(socketPath);
    } catch (IOException e) {
      log.debug("could not delete {}", socketPath, e);
    }
  }
}
