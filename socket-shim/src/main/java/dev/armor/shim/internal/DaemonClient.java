package dev.armor.shim.internal;

import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.ConnectionKind;
import dev.armor.shim.control.ShimMessage.Heartbeat;
import dev.armor.shim.control.ShimMessage.HeartbeatAck;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Ping;
import dev.armor.shim.control.ShimMessage.Pong;
import dev.armor.shim.control.ShimProtocolException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The shim's side of the control socket: the session connection and a small pool of request connections.
 *
 * <p>Session: opened at premain so the daemon knows the process before {@code main} runs, then held by the
 * session thread, which answers pings and, when the daemon goes away (end of stream), reports the loss (the
 * runtime then forgets every cached route, since a new daemon has new listener ports) and reopens the session
 * with a capped back-off, so a restarted daemon sees its apps again. App threads that need the daemon while no
 * session is open try once themselves and fail fast: a missing daemon must not stall connects.
 *
 * <p>Requests: app threads ask synchronously, one query per connection at a time; a connection is taken from the
 * pool (or opened) and returned after a good answer, so concurrent connects do not queue behind each other (a bind
 * may take a while). A connection that failed or timed out is closed: a late answer must never be read as the
 * answer to the next query.
 *
 * <p>Peers (server apps only): once the app listens on a rerouted port, a PEERS connection carries the daemon's
 * notices of the connections it is about to make to the app ({@link PeerFeed}), so accepting one needs no query;
 * it is reopened with the session.
 *
 * <p>Heartbeats and fencing (protected apps only, see {@link ShimConfig#heartbeats()}): the session thread also
 * sends a HEARTBEAT every heartbeat interval, which the daemon acknowledges at once; its Execution ARMOR declares
 * the process hung when the beats stop. The same thread holds a {@link DaemonLease} on the daemon: when the session
 * ends (the daemon died) or a heartbeat stays unanswered for the lease (the daemon is frozen), a fencing app stops
 * itself through its {@link Fence} instead of reconnecting, since nothing would restart it or relay its clients,
 * and the cluster may already be starting its work elsewhere. Before the first session opened, or while none is,
 * reconnect attempts that fail for a whole lease fence it too. All on this one daemon thread: it adds no thread,
 * allocates one small frame per beat, and never keeps the app alive.
 */
final class DaemonClient {
  private static final int MAX_IDLE_REQUEST_CONNECTIONS = 4;
  private static final int MAX_INTERRUPTED_ATTEMPTS = 3;
  private static final long MIN_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 2000;

  private final ShimConfig config;
  private final long pid;
  private final Runnable onSessionLost;
  private final Fence fence;
  private final DaemonLease lease;

  private long beats; // session thread only
  private final Object sessionLock = new Object();
  private final Deque<DaemonChannel> idle = new ConcurrentLinkedDeque<>();
  private DaemonChannel session; // guarded by sessionLock; null while there is none
  private final PeerFeed peers = new PeerFeed();
  private final Object peersLock = new Object();
  private volatile boolean peersWanted;
  private volatile Thread keeper; // the session thread, once started
  private volatile boolean exiting;

  DaemonClient(ShimConfig config, long pid, Runnable onSessionLost) {
    this(config, pid, onSessionLost, Fence.halting(config));
  }

  DaemonClient(ShimConfig config, long pid, Runnable onSessionLost, Fence fence) {
    this.config = config;
    this.pid = pid;
    this.onSessionLost = onSessionLost;
    this.fence = fence;
    this.lease = new DaemonLease(config.leaseNanos());
  }

  /** Opens the session unless it is open: one attempt, bounded by the timeout. */
  void ensureSession() throws IOException {
    synchronized (sessionLock) {
      if (session == null) {
        session = DaemonChannel.open(config.socket(), hello(ConnectionKind.SESSION), config.timeoutNanos());
      }
    }
  }

  /** Starts the daemon thread that holds the session for the rest of the process's life. */
  void startSessionThread() {
    Thread thread = new Thread(this::keepSession, "armor-shim-session");
    thread.setDaemon(true);
    keeper = thread;
    thread.start();
  }

  /**
   * Ends the session thread because the JVM is exiting, after the app's own shutdown hooks (so a protected app
   * still beats while they run), and waits up to {@code waitMillis} for it to end. Nothing is closed and nothing
   * fenced: the session ends with the process, as before.
   *
   * <p>Why: at exit HotSpot waits up to 300 ms for threads that are in native code to stop there, and this thread
   * spends its life in a native {@code epoll_wait}; measured, every protected JVM's normal exit took 0.3 s longer
   * than the same JVM's without the shim. Woken, the thread returns into Java and ends.
   */
  void endForExit(long waitMillis) {
    exiting = true;
    DaemonChannel current = currentSession();
    if (current != null) {
      current.stopWaiting();
    }
    Thread thread = keeper;
    if (thread != null && thread != Thread.currentThread()) {
      try {
        thread.join(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Asks {@code query} and returns the daemon's answer.
   *
   * <p>Interrupts: the app's call being intercepted ignores them ({@code Socket.connect} on a platform thread), but
   * the shim's channels are interruptible and would be closed by one. So the flag is cleared while asking, a query
   * cut short by an interrupt is asked again on a fresh connection (a few times at most), and the flag is set again
   * before returning: the app sees its interrupt, as it would have without the shim.
   */
  ShimMessage ask(ShimMessage query) throws IOException {
    boolean interrupted = Thread.interrupted();
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          return askOnce(query);
        } catch (ClosedByInterruptException e) {
          interrupted = true;
          Thread.interrupted();
          if (attempt == MAX_INTERRUPTED_ATTEMPTS) {
            throw e;
          }
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * One try: on a pooled connection if there is one, else a new one. Retries once on a fresh connection when the
   * pooled one turns out to be dead (the daemon restarted since it was pooled); never after a timeout.
   */
  private ShimMessage askOnce(ShimMessage query) throws IOException {
    ensureSession();
    DaemonChannel pooled = idle.pollFirst();
    if (pooled != null) {
      try {
        return askOn(pooled, query);
      } catch (SocketTimeoutException | ClosedByInterruptException e) {
        throw e;
      } catch (IOException e) {
        Log.get().log(Level.DEBUG, () -> "pooled shim connection failed, retrying on a new one: " + e);
        ensureSession();
      }
    }
    return askOn(openRequestConnection(), query);
  }

  private ShimMessage askOn(DaemonChannel channel, ShimMessage query) throws IOException {
    try {
      ShimMessage answer = channel.ask(query, System.nanoTime() + config.timeoutNanos());
      release(channel);
      return answer;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * Opens the PEERS connection unless it is open; called before the app's first rerouted listener is reported, so
   * that even the first connection to it is announced. Best effort: without it, accepts ask.
   */
  void openPeerFeed() {
    peersWanted = true;
    synchronized (peersLock) {
      if (peers.isOpen()) {
        return;
      }
      try {
        ensureSession();
        peers.attach(DaemonChannel.open(config.socket(), hello(ConnectionKind.PEERS), config.timeoutNanos()));
      } catch (IOException e) {
        Log.get().log(Level.DEBUG, () -> "could not open the peers connection to " + config.daemonName()
            + " (accepted connections ask for their peer instead): " + e.getMessage());
      }
    }
  }

  /** The client the daemon announced for a connection from 127.0.0.1:{@code daemonPort}, or null: ask then. */
  InetSocketAddress announcedPeer(int daemonPort) {
    return peers.take(daemonPort);
  }

  /** The session thread, or null before it started (tests). */
  Thread sessionThread() {
    return keeper;
  }

  /** Whether the PEERS connection is open (tests). */
  boolean peerFeedOpen() {
    return peers.isOpen();
  }

  private DaemonChannel openRequestConnection() throws IOException {
    return DaemonChannel.open(config.socket(), hello(ConnectionKind.REQUEST), config.timeoutNanos());
  }

  private void release(DaemonChannel channel) {
    if (idle.size() < MAX_IDLE_REQUEST_CONNECTIONS) {
      idle.addFirst(channel);
    } else {
      channel.close();
    }
  }

  private Hello hello(ConnectionKind kind) {
    return new Hello(kind, pid, config.armorId(), config.node());
  }

  private void keepSession() {
    long backoffMillis = MIN_BACKOFF_MILLIS;
    while (!exiting) {
      DaemonChannel current = currentSession();
      if (current == null) {
        if (config.fences()) {
          long now = System.nanoTime();
          lease.asked(now);
          if (lease.expired(now)) {
            fence.stop("could not reach it for " + lease.silenceNanos(now) / 1_000_000 + " ms");
            return;
          }
        }
        backoffMillis = reopen(backoffMillis);
        continue;
      }
      lease.answered(); // the daemon welcomed this session
      long openedAt = System.nanoTime();
      String why = serve(current);
      if (exiting) {
        return;
      }
      lost(current);
      if (config.fences()) {
        fence.stop(why);
        return;
      }
      if (System.nanoTime() - openedAt > 10 * MAX_BACKOFF_MILLIS * 1_000_000L) {
        backoffMillis = MIN_BACKOFF_MILLIS; // it had been up a good while: a restart, not a refusing daemon
      }
    }
  }

  private DaemonChannel currentSession() {
    synchronized (sessionLock) {
      return session;
    }
  }

  /** Waits, then tries to reopen the session; returns the next back-off. */
  private long reopen(long backoffMillis) {
    pause(backoffMillis);
    try {
      ensureSession();
      Log.get().log(Level.INFO, () -> "reconnected to " + config.daemonName());
      if (peersWanted) {
        openPeerFeed();
      }
      return backoffMillis;
    } catch (IOException e) {
      return Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
    }
  }

  /**
   * Answers pings and, for a protected app, beats, until the session connection ends or (when fencing) the lease
   * runs out; returns why it ended, in words for the fencing line. The first beat goes out at once, so the
   * Execution ARMOR starts watching as soon as the process runs.
   */
  private String serve(DaemonChannel current) {
    boolean beating = config.heartbeats();
    long nextBeatNanos = System.nanoTime();
    try {
      while (!exiting) {
        long deadline = beating ? nextBeatNanos : DaemonChannel.NO_DEADLINE;
        if (config.fences()) {
          deadline = Math.min(deadline, lease.expiresAtNanos());
        }
        ShimMessage message = current.poll(deadline);
        long now = System.nanoTime();
        if (message instanceof HeartbeatAck ack) {
          lease.answered(ack.leaseMillis());
        } else if (message != null) {
          lease.answered();
          answer(current, message);
        }
        if (config.fences() && lease.expired(now)) {
          // Also when this process itself stood still past the node lease's end (stopped, or its whole node paused):
          // it cannot tell which, and asking the daemon first would let its threads act meanwhile, next to the
          // instance the cluster may have started elsewhere. Stopped alone, it is restarted in place instead.
          return lease.nodeLeaseEnded(now)
              ? "its node lease ran out: the cluster may run this process's work elsewhere"
              : "it has not answered heartbeats for " + lease.silenceNanos(now) / 1_000_000 + " ms";
        }
        if (beating && now - nextBeatNanos >= 0) {
          current.send(new Heartbeat(++beats), now + config.timeoutNanos());
          lease.asked(now);
          nextBeatNanos = now + config.heartbeatNanos();
        }
      }
      return "the process is exiting";
    } catch (IOException e) {
      if (!config.fences()) {
        // A fencing app says it in its one stderr line instead: its logging must not stand between it and the halt.
        Log.get().log(Level.WARNING, () -> "lost the session with " + config.daemonName() + ": " + e.getMessage());
      }
      return "its control session ended: " + e.getMessage();
    }
  }

  private void answer(DaemonChannel current, ShimMessage message) throws IOException {
    if (message instanceof Ping ping) {
      current.send(new Pong(ping.id()), System.nanoTime() + config.timeoutNanos());
    } else if (!(message instanceof HeartbeatAck)) {
      throw new ShimProtocolException("the daemon sent " + message + " on the session connection");
    }
  }

  private void lost(DaemonChannel current) {
    synchronized (sessionLock) {
      if (session == current) {
        session = null;
      }
    }
    current.close();
    for (DaemonChannel channel; (channel = idle.pollFirst()) != null; ) {
      channel.close();
    }
    peers.close();
    onSessionLost.run();
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // nobody interrupts this daemon thread; keep going
    }
  }
}
