package dev.armor.execution.progress;

import dev.armor.elements.wire.AppSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether one incarnation of a protected app makes progress, from successive samples of its sockets.
 *
 * <p>Design note. A heartbeat proves the shim's thread runs, not that the app serves: its workers may be deadlocked,
 * its accept loop stuck, a request read and never answered. What Armor can see of an unmodified app without reading
 * its protocol is what the kernel keeps per socket: the connections waiting in a listener's accept queue, the bytes
 * that reached a connection and the bytes the app has read of them, the bytes it wrote, which side sent data last.
 * From those, the rule (docs/FAULTS.md, "Hangs found from progress"):
 *
 * <ul>
 *   <li><b>Work is owed</b> on a listener whose accept queue holds a connection; on a connection whose client's input
 *       lies unread; on an established connection whose client sent data last, all of it read by the app, which has
 *       written nothing since. A connection whose output waits for its client to read it owes nothing: the app waits
 *       on the client (a slow reader is never the app's hang).
 *   <li>Owed work <b>waits</b> from when it was first seen owed, or from the app's last act on that socket (an
 *       accept, a byte read, a byte written), whichever is later.
 *   <li><b>Hung</b>: some owed work has waited the whole progress timeout, and the app has written no byte and closed
 *       no connection, anywhere, for as long. An idle app owes nothing; a thread that still accepts and reads while
 *       every worker is deadlocked does not hide the hang (its clients get no answer); one long request among others
 *       answered is not a hang.
 * </ul>
 *
 * <p>Samples are compared by socket (inode). The output clock starts at the incarnation's start, so an app is never
 * judged before it has had the whole timeout.
 */
public final class ProgressWatch {

  private static final int REASONS_SHOWN = 3;

  /** One socket as last sampled, and when the app last acted on it. */
  private static final class Tracked {
    AppSocket last;
    long activeAtNanos;
    long owedSinceNanos = -1;

    Tracked(AppSocket socket, long now) {
      this.last = socket;
      this.activeAtNanos = now;
    }
  }

  private final long timeoutNanos;
  private final Map<Long, Tracked> sockets = new HashMap<>(); // by inode
  private long lastOutputNanos;

  /**
   * @param timeout the progress timeout (positive)
   * @param startedAtNanos when the incarnation started, on the clock the samples are given on
   */
  public ProgressWatch(Duration timeout, long startedAtNanos) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("progress timeout must be positive, but was " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
    this.lastOutputNanos = startedAtNanos;
  }

  /** Takes the sample taken at {@code nowNanos}; returns why the app is hung, or empty while it is not. */
  public Optional<String> observe(long nowNanos, List<AppSocket> sample) {
    Set<Integer> listeningPorts = new HashSet<>();
    for (AppSocket socket : sample) {
      if (socket.getListening()) {
        listeningPorts.add(socket.getLocalPort());
      }
    }
    Set<Integer> acceptedOn = new HashSet<>();
    Set<Long> seen = new HashSet<>();
    for (AppSocket socket : sample) {
      seen.add(socket.getInode());
      Tracked tracked = sockets.get(socket.getInode());
      if (tracked == null) {
        sockets.put(socket.getInode(), new Tracked(socket, nowNanos));
        if (!socket.getListening()) {
          acceptedOn.add(socket.getLocalPort());
        }
        continue;
      }
      AppSocket earlier = tracked.last;
      if (socket.getListening()) {
        if (socket.getReceiveQueue() < earlier.getReceiveQueue()) {
          tracked.activeAtNanos = nowNanos;
        }
      } else {
        if (written(socket) > written(earlier)) {
          tracked.activeAtNanos = nowNanos;
          lastOutputNanos = nowNanos;
        } else if (read(socket) > read(earlier)) {
          tracked.activeAtNanos = nowNanos;
        }
      }
      tracked.last = socket;
    }
    for (var it = sockets.entrySet().iterator(); it.hasNext(); ) {
      Tracked tracked = it.next().getValue();
      if (!seen.contains(tracked.last.getInode())) {
        if (!tracked.last.getListening() && listeningPorts.contains(tracked.last.getLocalPort())) {
          lastOutputNanos = nowNanos; // a client's connection the app closed
        }
        it.remove();
      } else if (tracked.last.getListening() && acceptedOn.contains(tracked.last.getLocalPort())) {
        tracked.activeAtNanos = nowNanos; // it accepted a connection since
      }
    }

    long oldest = 0;
    List<String> overdue = new ArrayList<>();
    for (Tracked tracked : sockets.values()) {
      Optional<String> owed = owed(tracked.last, listeningPorts);
      if (owed.isEmpty()) {
        tracked.owedSinceNanos = -1;
        continue;
      }
      if (tracked.owedSinceNanos < 0) {
        tracked.owedSinceNanos = nowNanos;
      }
      long waited = nowNanos - Math.max(tracked.activeAtNanos, tracked.owedSinceNanos);
      oldest = Math.max(oldest, waited);
      if (waited >= timeoutNanos) {
        overdue.add(owed.get() + " for " + waited / 1_000_000 + " ms");
      }
    }
    long silent = nowNanos - lastOutputNanos;
    if (overdue.isEmpty() || silent < timeoutNanos) {
      return Optional.empty();
    }
    overdue.sort(null);
    String shown = String.join("; ", overdue.subList(0, Math.min(REASONS_SHOWN, overdue.size())))
        + (overdue.size() > REASONS_SHOWN ? "; and " + (overdue.size() - REASONS_SHOWN) + " more" : "");
    return Optional.of("no progress: owed work waited (" + shown + ") and no byte written for " + silent / 1_000_000
        + " ms (progress timeout " + timeoutNanos / 1_000_000 + " ms)");
  }

  /** What the app owes on {@code socket}, if anything. */
  private static Optional<String> owed(AppSocket socket, Set<Integer> ports) {
    if (socket.getListening()) {
      return socket.getReceiveQueue() > 0
          ? Optional.of(socket.getReceiveQueue() + " connection(s) waiting to be accepted on port " + socket.getLocalPort())
          : Optional.empty();
    }
    if (!ports.contains(socket.getLocalPort()) || socket.getSendQueue() > 0) {
      return Optional.empty(); // not a client's connection, or its client has the app's output to read first
    }
    if (socket.getReceiveQueue() > 0) {
      return Optional.of(socket.getReceiveQueue() + " bytes from " + socket.getPeer() + " not read");
    }
    return clientSpokeLast(socket)
        ? Optional.of("a request from " + socket.getPeer() + " read and not answered")
        : Optional.empty();
  }

  /** The client sent data after the app's last output (or the app never wrote), and the connection is open. */
  private static boolean clientSpokeLast(AppSocket socket) {
    if (!"ESTAB".equals(socket.getState()) || socket.getBytesReceived() == 0) {
      return false;
    }
    return socket.getBytesAcked() == 0 || socket.getLastReceiveMillis() < socket.getLastSendMillis();
  }

  private static long read(AppSocket socket) {
    return socket.getBytesReceived() - socket.getReceiveQueue();
  }

  private static long written(AppSocket socket) {
    return socket.getBytesAcked() + socket.getSendQueue();
  }
}
