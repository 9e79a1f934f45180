package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Client side, {@code reconnect} policy: whether a connection can be re-attached to a restarted server without the
 * client noticing, and a watchdog for when it was but should not have been. Never worse than no Armor: a client gets
 * either nothing, or the error it would have had without Armor (its connection reset), sooner; never a hang.
 *
 * <p>Design note. A re-attachment hands the client's connection, mid-stream, to an instance that has never seen it.
 * That is invisible only where the protocol has no state on the connection that the new instance lacks, which the
 * relay cannot know in general. What it can see, with every byte passing through:
 *
 * <ul>
 *   <li>a connection that has carried nothing is indistinguishable from a new one: re-attached;
 *   <li>a connection whose first bytes open a session no other instance can continue (a TLS handshake, the HTTP/2
 *       connection preface that gRPC sends, an SSH banner) never can be: at the loss it is reset at once, as the
 *       crash would have reset it (gRPC then sees the retryable {@code UNAVAILABLE}, not the {@code INTERNAL} of a
 *       preface-less connection; an HTTPS or SSH client an error, not a hang), unless HTTP/2 can end it more
 *       gracefully ({@link Http2Frames});
 *   <li>a connection of a protocol the relay does not read whose lost instance, as the daemon next to it saw, had read
 *       bytes of the client's that it never answered ({@link UnansweredInput}, told with the loss): a request in
 *       flight, which no other instance will answer. Ended at once, as the crash ended it;
 *   <li>a connection of a protocol the relay does not read whose client spoke last and then went quiet, waiting, for
 *       at least {@link #IN_FLIGHT_FLOOR_NANOS} before the loss had a request in flight: the lost instance took it with
 *       it, no other can answer it (without replay its bytes are gone), and without Armor the client would have had
 *       its error at the crash. Reset at once (before: after the watchdog's stall timeout). A client still sending (a
 *       stream), or one that spoke a moment before the loss, is not taken for one: its bytes may have gone to an
 *       instance already dead, or still be on their way, and the new instance may answer what it sends next. How long
 *       answers took before does not matter: whatever the lost instance had, it will not answer now;
 *   <li>anything else is re-attached, with the watchdog: while the client waits on the new instance (it had sent
 *       bytes the lost instance never answered, or sends some now) and the new instance has not said a word, the
 *       client is reset after the stall timeout (at least twice the slowest answer seen on the connection). A
 *       request the lost instance took with it, or a new instance waiting for a handshake the client already made,
 *       thus ends in a prompt reset instead of two parties waiting for each other forever. The first output of the
 *       new instance disarms it: the two are talking.
 * </ul>
 *
 * <p>Not thread-safe: confined to its connection's event loop. The clock is the relay's (injected: tests drive it).
 */
final class ReconnectGuard {

  /**
   * How long a client must have waited, quiet, on an unanswered request at a loss for it to count as in flight:
   * longer than a loss takes to be seen after a crash (an end of stream, then the liveness probe: milliseconds), so
   * that bytes sent to an instance already dead are not taken for a request it had; well above a streaming client's
   * gap between writes (20 ms in the system tests) and an event loop's hiccup on a loaded host; well below the 5 s
   * the watchdog would wait instead.
   */
  static final long IN_FLIGHT_FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  /** What the first bytes of a connection say about it. */
  enum Session {
    /** Nothing carried yet. */
    NONE("nothing"),
    /** Bytes of a protocol the relay does not recognise: re-attached, watched. */
    UNKNOWN("an unrecognised protocol"),
    TLS("a TLS session"),
    HTTP2("an HTTP/2 connection (gRPC)"),
    SSH("an SSH session");

    final String words;

    Session(String words) {
      this.words = words;
    }

    /** Whether no other instance can continue it: the connection is reset at a loss instead of re-attached. */
    boolean boundToInstance() {
      return this == TLS || this == HTTP2 || this == SSH;
    }
  }

  private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SSH_BANNER = "SSH-".getBytes(StandardCharsets.US_ASCII);

  private final LongSupplier nanoClock;
  private Session session = Session.NONE;
  /** The client sent bytes the current instance has not answered yet (it spoke last). */
  private boolean clientWaiting;
  /** After a re-attachment: the new instance has said nothing yet. */
  private boolean watching;
  /** When the client began waiting on the current instance; meaningful while {@link #clientWaiting}. */
  private long waitingSinceNanos;
  /** When the client last sent bytes towards the server. */
  private long lastSentNanos;
  /** The slowest the server took to start answering the client, on this connection. */
  private long slowestAnswerNanos;
  /** The server side told, with this loss, that the lost instance had read bytes it never answered. */
  private boolean lostWithUnansweredInput;

  ReconnectGuard(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** What the connection's first bytes said (for logs and tests). */
  Session session() {
    return session;
  }

  /** The slowest the server took to start answering the client on this connection, so far. */
  long slowestAnswerNanos() {
    return slowestAnswerNanos;
  }

  /**
   * The client's bytes go to the server now.
   *
   * @return true when the watchdog should start counting now (a re-attached connection's client starts waiting)
   */
  boolean clientSent(ByteBuf buf) {
    if (session == Session.NONE) {
      session = classify(buf, true);
    }
    lastSentNanos = nanoClock.getAsLong();
    if (clientWaiting) {
      return false;
    }
    clientWaiting = true;
    waitingSinceNanos = nanoClock.getAsLong();
    return watching;
  }

  /** The server's bytes reach the client: it is answered; a re-attached connection is past the watchdog. */
  void serverSent(ByteBuf buf) {
    if (session == Session.NONE) {
      session = classify(buf, false);
    }
    if (clientWaiting) {
      slowestAnswerNanos = Math.max(slowestAnswerNanos, nanoClock.getAsLong() - waitingSinceNanos);
      clientWaiting = false;
    }
    watching = false;
  }

  /**
   * The server side's word, with the loss about to be judged, that the lost instance had read bytes of the client's that
   * it never answered ({@link UnansweredInput}).
   */
  void lostWithUnansweredInput() {
    lostWithUnansweredInput = true;
  }

  /**
   * The server was lost: null if the connection may be re-attached, else why it must be reset instead.
   *
   * @param unread whether the relay reads nothing of the protocol (not HTTP): only then is a client that spoke last
   *     and went quiet taken to have a request in flight (HTTP says so itself, and may send the request again)
   */
  String whyNotReattach(boolean unread) {
    if (session.boundToInstance()) {
      return "it carries " + session.words + " that no other instance can continue";
    }
    if (unread && session == Session.UNKNOWN && lostWithUnansweredInput) {
      return "the lost instance had read bytes of its client's that it never answered (a request in flight, as the"
          + " daemon next to it saw): it took them with it and no other instance can answer them";
    }
    if (unread && session == Session.UNKNOWN && clientWaiting) {
      long quiet = nanoClock.getAsLong() - lastSentNanos;
      if (quiet >= IN_FLIGHT_FLOOR_NANOS) {
        return "its client had sent bytes " + TimeUnit.NANOSECONDS.toMillis(quiet)
            + " ms before and was waiting for the answer (a request in flight): the lost instance took it with it"
            + " and no other can answer it";
      }
    }
    return null;
  }

  /**
   * The server was lost under replay: null if the connection may be replayed, else why it must be reset instead. A
   * session bound to the lost instance (keys, or state drawn at random, in every instance its own) diverges at the new
   * instance's first answer; the client would then learn of the loss only with its next request, and fail it, where
   * without Armor it had found the connection closed and made a new one (an idle SSH session, measured). A request in
   * flight is what replay is for: not a reason here.
   */
  String whyNotReplay() {
    return session.boundToInstance()
        ? "it carries " + session.words + " that no other instance can continue, nor replay (it would diverge)"
        : null;
  }

  /**
   * The connection was re-attached to a new instance.
   *
   * @return true when the watchdog should start counting now: the client is still waiting on an answer the lost
   *     instance took with it (with the time it has waited so far kept)
   */
  boolean reattached() {
    lostWithUnansweredInput = false;
    watching = session != Session.NONE;
    return watchdogCounting();
  }

  /** Whether the watchdog is counting: re-attached, the client waiting, the new instance silent. */
  boolean watchdogCounting() {
    return watching && clientWaiting;
  }

  /** Whether {@code buf} starts with {@code prefix} (as far as both go: a first read shorter than it can still match). */
  private static boolean startsWith(ByteBuf buf, byte[] prefix) {
    int n = Math.min(prefix.length, buf.readableBytes());
    if (n < 3) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (buf.getByte(buf.readerIndex() + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The session a connection's first bytes open; {@code fromClient}: the client spoke first. */
  static Session classify(ByteBuf first, boolean fromClient) {
    if (!first.isReadable()) {
      return Session.NONE;
    }
    int at = first.readerIndex();
    if (fromClient
        && first.readableBytes() >= 3
        && first.getByte(at) == 0x16 // TLS record: handshake
        && first.getByte(at + 1) == 0x03 // version 3.x (SSL 3.0 to TLS 1.3)
        && (first.getByte(at + 2) & 0xff) <= 0x04) {
      return Session.TLS;
    }
    if (fromClient && startsWith(first, HTTP2_PREFACE)) {
      return Session.HTTP2;
    }
    if (startsWith(first, SSH_BANNER)) {
      return Session.SSH;
    }
    return Session.UNKNOWN;
  }
}
