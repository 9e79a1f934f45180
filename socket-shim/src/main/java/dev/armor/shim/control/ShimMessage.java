package dev.armor.shim.control;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Every frame of the shim control protocol, as a value. {@link ShimWire} turns them into bytes and back; the
 * class comment there gives the byte layout and the conversation.
 *
 * <p>Messages without fields are empty records rather than enum singletons, like {@link
 * ShimRequestHandler.Route.Direct}: the codec and the tests compare them with {@code equals} either way.
 */
public sealed interface ShimMessage {

  /** What a shim connection is for; the first frame on it, {@link Hello}, says which. */
  enum ConnectionKind {
    /** Opened once at premain and held for the process lifetime; its end of stream is the app's death. */
    SESSION,
    /** Carries one query at a time from app threads; any number per process, tied to the session by pid. */
    REQUEST,
    /**
     * Carries the daemon's {@link PeerNotice}s to a server app, one way; at most one per process, tied to the session
     * by pid. The shim reads it without waiting, from the thread that accepts a rerouted connection.
     */
    PEERS
  }

  // ---- shim to daemon ----

  /** First frame of every connection. */
  record Hello(ConnectionKind kind, long pid, String armorId, String node) implements ShimMessage {
    public Hello {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(armorId, "armorId");
      Objects.requireNonNull(node, "node");
    }
  }

  /** Answer to {@link Ping}, on the session connection. */
  record Pong(long id) implements ShimMessage {}

  /**
   * A protected app's shim is alive: sent on the session connection every heartbeat interval, numbered from 1;
   * the daemon answers {@link HeartbeatAck} at once.
   */
  record Heartbeat(long beat) implements ShimMessage {}

  /** The app connects to {@code destination}: answered by {@link Direct}, {@link Via} or {@link Fail}. */
  record RouteQuery(InetSocketAddress destination) implements ShimMessage {
    public RouteQuery {
      requireResolved(destination, "destination");
    }
  }

  /**
   * The app binds a listener to {@code requested}: answered by {@link Ok} or {@link Fail}. Shims of this version do not
   * ask it (the daemon decides at {@link Listening}); it stays in the protocol for shims of earlier versions.
   */
  record BindQuery(InetSocketAddress requested) implements ShimMessage {
    public BindQuery {
      requireResolved(requested, "requested");
    }
  }

  /** The rerouted listener for {@code requested} is up on 127.0.0.1:{@code actualPort}: {@link Ok} or {@link Fail}. */
  record Listening(InetSocketAddress requested, int actualPort) implements ShimMessage {
    public Listening {
      requireResolved(requested, "requested");
      requirePort(actualPort, "actualPort");
    }
  }

  /** The app closed its listener for {@code requested}: answered by {@link Ack}. */
  record Unlistened(InetSocketAddress requested) implements ShimMessage {
    public Unlistened {
      requireResolved(requested, "requested");
    }
  }

  /** The app accepted a connection from 127.0.0.1:{@code daemonPort}: {@link Peer} or {@link NoPeer}. */
  record PeerQuery(int daemonPort) implements ShimMessage {
    public PeerQuery {
      requirePort(daemonPort, "daemonPort");
    }
  }

  // ---- daemon to shim ----

  /** The daemon accepted the {@link Hello}. */
  record Welcome() implements ShimMessage {}

  /** Liveness probe on the session connection; the shim answers {@link Pong} with the same id. */
  record Ping(long id) implements ShimMessage {}

  /**
   * Answer to {@link Heartbeat}: the daemon is alive; the shim's lease on it is renewed. {@code leaseMillis}: how long
   * the node's lease still runs (the app must stop when it ends; 0: it ended), or -1 when the node holds none (node
   * leases off, or not held yet): the shim then goes by its own silence rule alone.
   */
  record HeartbeatAck(long beat, int leaseMillis) implements ShimMessage {
    public HeartbeatAck(long beat) {
      this(beat, -1);
    }
  }

  /** Route answer: connect directly. */
  record Direct() implements ShimMessage {}

  /** Route answer: connect to 127.0.0.1:{@code port} instead. */
  record Via(int port) implements ShimMessage {
    public Via {
      requirePort(port, "port");
    }
  }

  /** Route, bind or listening answer: fail the app's call with {@code message}. */
  record Fail(String message) implements ShimMessage {
    public Fail {
      Objects.requireNonNull(message, "message");
    }
  }

  /** Bind or listening answer: go on. */
  record Ok() implements ShimMessage {}

  /** Peer answer: the accepted connection really comes from {@code address}. */
  record Peer(InetSocketAddress address) implements ShimMessage {
    public Peer {
      requireResolved(address, "address");
    }
  }

  /** Peer answer: not a connection the daemon knows; leave the accepted socket as it is. */
  record NoPeer() implements ShimMessage {}

  /** Answer to {@link Unlistened}. */
  record Ack() implements ShimMessage {}

  /**
   * On the PEERS connection, before the daemon connects to one of the app's rerouted listeners from 127.0.0.1:{@code
   * daemonPort}: that connection really comes from {@code address} (what {@link PeerQuery} would answer). Written
   * before the connect, so it has arrived when the app accepts: the accept needs no round trip to the daemon.
   */
  record PeerNotice(int daemonPort, InetSocketAddress address) implements ShimMessage {
    public PeerNotice {
      requirePort(daemonPort, "daemonPort");
      requireResolved(address, "address");
    }
  }

  /** The daemon could not answer (hello refused, handler failed); the shim fails the app's call with it. */
  record DaemonError(String message) implements ShimMessage {
    public DaemonError {
      Objects.requireNonNull(message, "message");
    }
  }

  private static void requireResolved(InetSocketAddress address, String name) {
    Objects.requireNonNull(address, name);
    if (address.isUnresolved()) {
      throw new IllegalArgumentException(name + " must be a resolved address, but was " + address);
    }
  }

  private static void requirePort(int port, String name) {
    if (port < 0 || port > 0xFFFF) {
      throw new IllegalArgumentException(name + " must be a port in [0, 65535], but was " + port);
    }
  }
}
