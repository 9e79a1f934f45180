package dev.armor.security;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the connections a port holds before their TLS handshake is done, per peer address and in all: a peer that
 * opens connections and never finishes a handshake (slowloris) holds each one for {@link TlsHandshake#TIMEOUT}, and
 * without a bound could hold as many as the process has descriptors, starving the real peers. Once a connection's
 * handshake is done (the peer showed its certificate) or it closes, it no longer counts. Thread-safe.
 */
public final class PendingHandshakes {

  private final int perPeer;
  private final int total;
  private final ConcurrentHashMap<InetAddress, AtomicInteger> byPeer = new ConcurrentHashMap<>();
  private final AtomicInteger all = new AtomicInteger();

  /** At most {@code perPeer} connections from one address, and {@code total} from all, in their handshake at once. */
  public PendingHandshakes(int perPeer, int total) {
    this.perPeer = perPeer;
    this.total = total;
  }

  /**
   * Counts a new connection from {@code peer} as pending, and returns null; or, when a bound is reached, counts
   * nothing and returns why it is refused. Each admitted connection must be {@link #done} exactly once.
   */
  public String admit(SocketAddress peer) {
    if (all.incrementAndGet() > total) {
      all.decrementAndGet();
      return total + " connections already in their TLS handshake, the most this port holds";
    }
    InetAddress address = addressOf(peer);
    AtomicInteger ofPeer = byPeer.compute(address, (a, count) -> {
      AtomicInteger counted = count == null ? new AtomicInteger() : count;
      counted.incrementAndGet();
      return counted;
    });
    if (ofPeer.get() > perPeer) {
      release(address);
      all.decrementAndGet();
      return perPeer + " connections from " + address.getHostAddress()
          + " already in their TLS handshake, the most one address may have";
    }
    return null;
  }

  /** An admitted connection from {@code peer} finished its handshake, or closed. */
  public void done(SocketAddress peer) {
    release(addressOf(peer));
    all.decrementAndGet();
  }

  /** Connections pending now, in all (tests). */
  public int pending() {
    return all.get();
  }

  private void release(InetAddress address) {
    byPeer.computeIfPresent(address, (a, count) -> count.decrementAndGet() == 0 ? null : count);
  }

  private static InetAddress addressOf(SocketAddress peer) {
    if (peer instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress();
    }
    return InetAddress.getLoopbackAddress(); // not an IP peer: counted together
  }
}
