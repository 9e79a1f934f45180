package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.PeerNotice;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The app's PEERS connection: the daemon announces, before it connects to one of the app's rerouted listeners,
 * which client that connection carries ({@link PeerNotice}). The daemon writes the notice before it connects, so by
 * the time the app has accepted the connection the notice is in this socket's receive buffer: the accepting thread
 * reads what has arrived, without waiting, and finds it there. That replaces a round trip to the daemon (two thread
 * wake-ups, most of a millisecond on a loaded machine) on every accepted connection.
 *
 * <p>Correct without any timing assumption: notices arrive in the order they were written, and a notice for a
 * daemon port is always written before the connection from it, so after reading everything that has arrived the
 * latest notice for a port is the one of the connection just accepted. A port with no notice (the feed is not open,
 * was closed by the daemon because the app fell behind, or the connection is not the relay's) is asked about as
 * before. Notices of connections that never reach the app are kept up to {@link #MAX_KEPT}, oldest dropped.
 *
 * <p>Thread-safe: accepting threads take turns ({@code synchronized}); reading a few frames is microseconds.
 */
final class PeerFeed {
  static final int MAX_KEPT = 1024;

  private final Map<Integer, InetSocketAddress> announced =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, InetSocketAddress> eldest) {
          return size() > MAX_KEPT;
        }
      };
  private DaemonChannel channel; // null while closed

  /** Uses {@code opened} (a PEERS connection the daemon welcomed) from now on, replacing any previous one. */
  synchronized void attach(DaemonChannel opened) {
    close();
    channel = opened;
  }

  synchronized boolean isOpen() {
    return channel != null;
  }

  /**
   * The client the daemon announced for a connection from 127.0.0.1:{@code daemonPort}, or null when it did not
   * (ask it then). Never waits. The notice is consumed.
   */
  synchronized InetSocketAddress take(int daemonPort) {
    if (channel != null && !Thread.currentThread().isInterrupted()) {
      // (an interrupted thread's read would close the channel: such an accept asks instead)
      readArrived();
    }
    return announced.remove(daemonPort);
  }

  /**
   * Closes the connection and forgets the notices not taken: without the connection, a later connection from the
   * same port would have no newer notice to replace an old one, so an old one could be taken for it.
   */
  synchronized void close() {
    if (channel != null) {
      channel.close();
      channel = null;
    }
    announced.clear();
  }

  private void readArrived() {
    try {
      for (ShimMessage message = channel.readNow(); message != null; message = channel.readNow()) {
        if (message instanceof PeerNotice notice) {
          announced.remove(notice.daemonPort()); // re-inserted as the newest, so that the bound drops older ones
          announced.put(notice.daemonPort(), notice.address());
        } else {
          throw new IOException("unexpected " + message + " on the peers connection");
        }
      }
    } catch (IOException e) {
      // The daemon closed it (it went away, or this app fell behind): accepts ask from now on (see close()).
      Log.get().log(Level.DEBUG, () -> "the peers connection ended: " + e.getMessage());
      close();
    }
  }
}
