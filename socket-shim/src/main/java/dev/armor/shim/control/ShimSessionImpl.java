package dev.armor.shim.control;

import dev.armor.shim.control.ShimMessage.PeerNotice;
import dev.armor.shim.control.ShimMessage.Ping;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A session as the daemon holds it: the app's identity and its session connection, through which pings go out.
 * Pongs and the end of stream are read by that connection's thread, which calls {@link #pong} and {@link
 * #markClosed}; pings are written by any thread, one frame at a time, and never before the WELCOME. Peer notices go
 * out on the app's PEERS connection, if it opened one, without blocking the caller (a relay event loop).
 */
final class ShimSessionImpl implements ShimSession {
  private static final Logger LOG = System.getLogger(ShimControlServer.class.getName());

  private final long pid;
  private final String armorId;
  private final String node;
  private final ShimConnection connection;
  private final AtomicLong nextPingId = new AtomicLong();
  private final Map<Long, CompletableFuture<Boolean>> pendingPings = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> welcomed = new CompletableFuture<>();
  private volatile boolean open = true;
  /** The app's PEERS connection, once it opened one; closed with the session. */
  private volatile ShimConnection peers;

  ShimSessionImpl(long pid, String armorId, String node, ShimConnection connection) {
    this.pid = pid;
    this.armorId = armorId;
    this.node = node;
    this.connection = connection;
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public String armorId() {
    return armorId;
  }

  @Override
  public String node() {
    return node;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public CompletableFuture<Boolean> ping(Duration timeout) {
    if (!open) {
      return CompletableFuture.completedFuture(false);
    }
    long id = nextPingId.incrementAndGet();
    CompletableFuture<Boolean> answered = new CompletableFuture<>();
    pendingPings.put(id, answered);
    answered.whenComplete((ok, failure) -> pendingPings.remove(id));
    answered.completeOnTimeout(false, Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    welcomed.thenRun(() -> send(new Ping(id), answered));
    if (!open) {
      answered.complete(false); // closed meanwhile: markClosed may have missed this future
    }
    return answered;
  }

  /**
   * The WELCOME is out: pings may follow. Pings asked for earlier (say, by the handler's {@code sessionOpened})
   * were held back, since a frame before the WELCOME would break the shim's handshake.
   */
  void welcomed() {
    welcomed.complete(null);
  }

  private void send(Ping ping, CompletableFuture<Boolean> answered) {
    try {
      connection.send(ping);
    } catch (IOException e) {
      answered.complete(false);
    }
  }

  @Override
  public void announcePeer(int daemonPort, InetSocketAddress client) {
    ShimConnection feed = peers;
    if (feed == null || feed.trySend(new PeerNotice(daemonPort, client))) {
      return;
    }
    // The app does not read its notices (or is gone): stop sending; its accepts ask instead.
    detachPeers(feed);
    LOG.log(Level.DEBUG, () -> "closed the peers connection of pid " + pid + ": it fell behind");
  }

  /** The app opened its PEERS connection (a newer one replaces an older one). */
  void attachPeers(ShimConnection feed) {
    ShimConnection previous = peers;
    peers = feed;
    if (previous != null) {
      previous.closeHandedOff();
    }
    if (!open) {
      detachPeers(feed); // the session ended meanwhile: markClosed may have missed it
    }
  }

  private void detachPeers(ShimConnection feed) {
    if (peers == feed) {
      peers = null;
    }
    feed.closeHandedOff();
  }

  void pong(long id) {
    CompletableFuture<Boolean> answered = pendingPings.get(id);
    if (answered != null) {
      answered.complete(true);
    }
  }

  void markClosed() {
    open = false;
    ShimConnection feed = peers;
    if (feed != null) {
      detachPeers(feed);
    }
    for (CompletableFuture<Boolean> answered : pendingPings.values()) {
      answered.complete(false);
    }
  }

  @Override
  public String toString() {
    return "ShimSession[pid=" + pid + ", armorId=" + armorId + ", node=" + node + (open ? "" : ", closed") + "]";
  }
}
