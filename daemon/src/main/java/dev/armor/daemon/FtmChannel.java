package dev.armor.daemon;

import dev.armor.elements.wire.ArmorMessage;
import dev.armor.execution.process.ArmorChannel;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import dev.armor.security.TlsHandshake;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's end of the FTM channel (see {@code dev.armor.ftm.FtmChannelServer}): one {@link ArmorChannel} over TCP
 * to the node that hosts the FTM, for service registrations (an app's bind waits for one) and unregistrations, each
 * a round trip about ten times shorter than through the cluster on a loaded host.
 *
 * <p>Design note. The FTM says where its channel is, in its answer to this daemon's registration and in each
 * heartbeat ({@link #advertised}); a connector thread keeps a channel open to that address, from this node's own
 * address (the FTM takes channels from cluster members only), and after a failure tries again with a back-off
 * doubling from 100 ms to 2 s. {@link #request} never waits for a connection: while there is no open channel (not
 * connected yet, the FTM moving, its node gone) it says no and the gateway sends through the cluster, as it always
 * did. A request the channel loses (it closed before the answer) is reported as unanswered, for the caller to send
 * it again through the cluster. States: no address (the FTM has no channel), CONNECTING, OPEN; each change is
 * logged.
 */
final class FtmChannel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FtmChannel.class);
  private static final long MIN_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 2000;
  private static final int CONNECT_TIMEOUT_MILLIS = 2000;
  private static final long STABLE_NANOS = 10_000_000_000L;

  private final String node;
  private final String localHost;
  private final SSLContext tls;
  private final Object lock = new Object();
  private final Thread connector;
  private String target = ""; // guarded by lock: host:port the FTM advertised, empty for none
  private ArmorChannel open; // guarded by lock: the channel to target, null while there is none
  private boolean closed; // guarded by lock
  private long backoffMillis = MIN_BACKOFF_MILLIS; // guarded by lock
  private long retryAtNanos; // guarded by lock: no connect before this (System.nanoTime)
  private long openedAtNanos; // guarded by lock

  /**
   * @param node this daemon's node, for the log
   * @param localHost this node's own address, which the channel connects from
   * @param tls mutual TLS as this node (the FTM's end takes only node certificates of the cluster, and requests only
   *     as the daemon its certificate names)
   */
  FtmChannel(String node, String localHost, SSLContext tls) {
    this.node = node;
    this.localHost = localHost;
    this.tls = tls;
    this.retryAtNanos = System.nanoTime();
    this.connector = new Thread(this::keepOpen, "armor-ftm-channel " + node);
    this.connector.setDaemon(true);
    this.connector.start();
  }

  /** The FTM says its channel is at {@code address} (host:port; empty: it has none). Cheap when nothing changed. */
  void advertised(String address) {
    String next = address == null ? "" : address;
    ArmorChannel stale = null;
    synchronized (lock) {
      if (next.equals(target) || closed) {
        return;
      }
      log.info("daemon {}: the FTM channel is {} now (was {})", node, next.isEmpty() ? "none" : next,
          target.isEmpty() ? "none" : target);
      target = next;
      stale = open;
      open = null;
      backoffMillis = MIN_BACKOFF_MILLIS; // a new address: try it at once
      retryAtNanos = System.nanoTime();
      lock.notifyAll();
    }
    if (stale != null) {
      stale.close("the FTM moved to " + (next.isEmpty() ? "a node without a channel" : next));
    }
  }

  /**
   * Sends {@code request} over the open channel: {@code onReply} gets the FTM's answer, {@code onUnanswered} why there
   * was none if the channel closed first (the FTM may or may not have acted on it). False, and no callback, when no
   * channel is open: send it through the cluster.
   */
  boolean request(ArmorMessage request, Consumer<ArmorMessage> onReply, Consumer<String> onUnanswered) {
    ArmorChannel channel;
    synchronized (lock) {
      channel = open;
    }
    return channel != null && channel.request(request, onReply, onUnanswered);
  }

  /** Whether a channel is open now, for tests and status. */
  boolean isOpen() {
    synchronized (lock) {
      return open != null && open.isOpen();
    }
  }

  @Override
  public void close() {
    ArmorChannel last;
    synchronized (lock) {
      closed = true;
      last = open;
      open = null;
      lock.notifyAll();
    }
    if (last != null) {
      last.close("the daemon is stopping");
    }
  }

  /**
   * The connector thread: waits for an address to connect to (and for the back-off after a failure), connects, and
   * again when the channel closes.
   */
  private void keepOpen() {
    while (true) {
      String address;
      synchronized (lock) {
        while (!closed && !dueForConnect()) {
          long waitNanos = target.isEmpty() || open != null ? 0 : retryAtNanos - System.nanoTime();
          waitQuietly(waitNanos <= 0 ? 0 : Math.max(1, waitNanos / 1_000_000));
        }
        if (closed) {
          return;
        }
        address = target;
      }
      ArmorChannel channel = connect(address);
      boolean kept = false;
      synchronized (lock) {
        if (channel != null && address.equals(target) && !closed) {
          open = channel;
          openedAtNanos = System.nanoTime();
          kept = true;
          log.info("daemon {}: FTM channel to {} open; registrations go over it", node, address);
        } else if (channel == null && address.equals(target)) {
          retryLater();
        }
      }
      if (channel != null && !kept) {
        channel.close("the FTM moved while connecting");
      }
    }
  }

  /**
   * A socket from {@code local} connected to {@code remote}, never to itself: the FTM channel's port is ephemeral, so
   * once the FTM is gone a connect to it can draw that port as its own source port and connect the socket to itself
   * (TCP's simultaneous open), which would pass for an open channel that nobody answers. That is failed as the
   * refused connect it stands for, and the socket is closed with a reset.
   *
   * @throws ConnectException nobody listens at {@code remote} (refused, or the socket met itself)
   */
  static SocketChannel dial(InetSocketAddress local, InetSocketAddress remote, int timeoutMillis) throws IOException {
    SocketChannel socket = SocketChannel.open();
    try {
      socket.bind(local);
      socket.socket().setTcpNoDelay(true);
      socket.socket().connect(remote, timeoutMillis);
      if (socket.getLocalAddress().equals(socket.getRemoteAddress())) {
        socket.socket().setSoLinger(true, 0);
        throw new ConnectException(
            "Connection refused: " + remote + " (the connect met its own socket: nobody listens there)");
      }
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** An address, no channel, and the back-off (if any) over; under the lock. */
  private boolean dueForConnect() {
    return !target.isEmpty() && open == null && System.nanoTime() - retryAtNanos >= 0;
  }

  /** The next attempt waits the back-off, which doubles up to its cap; under the lock. */
  private void retryLater() {
    retryAtNanos = System.nanoTime() + backoffMillis * 1_000_000;
    backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
  }

  private ArmorChannel connect(String address) {
    int colon = address.lastIndexOf(':');
    SocketChannel socket = null;
    try {
      InetSocketAddress remote = new InetSocketAddress(address.substring(0, colon),
          Integer.parseInt(address.substring(colon + 1)));
      socket = dial(new InetSocketAddress(localHost, 0), remote, CONNECT_TIMEOUT_MILLIS);
      SSLSocket ssl = TlsHandshake.over(tls, socket.socket(), true);
      return ArmorChannel.open(ssl, "FTM at " + address, new ArmorChannel.Handler() {
        @Override
        public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {
          if (reply != null) {
            reply.accept(ArmorMessage.newBuilder().setFrom(message.getTo()).setTo(message.getFrom())
                .setCorrelationId(message.getCorrelationId())
                .setError("a daemon's FTM channel carries requests to the FTM only").build());
          }
        }

        @Override
        public void closed(ArmorChannel channel, String reason) {
          channelClosed(channel, address, reason);
        }
      });
    } catch (IOException | RuntimeException e) {
      log.info("daemon {}: cannot open the FTM channel to {} ({}); registrations go through the cluster meanwhile",
          node, address, e.getMessage());
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // nothing more to do with a socket that never connected
        }
      }
      return null;
    }
  }

  private void channelClosed(ArmorChannel channel, String address, String reason) {
    synchronized (lock) {
      if (open != channel) {
        return; // replaced already (the FTM moved, or the daemon stops)
      }
      open = null;
      if (System.nanoTime() - openedAtNanos > STABLE_NANOS) {
        backoffMillis = MIN_BACKOFF_MILLIS; // it had served a good while: reconnect at once
        retryAtNanos = System.nanoTime();
      } else {
        retryLater(); // a channel that closes soon after opening must not make the connector spin
      }
      log.info("daemon {}: FTM channel to {} closed ({}); registrations go through the cluster until it reopens",
          node, address, reason);
      lock.notifyAll();
    }
  }

  private void waitQuietly(long millis) {
    try {
      lock.wait(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
