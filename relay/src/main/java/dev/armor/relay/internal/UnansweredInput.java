package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;

/**
 * Whether a server app that died had read bytes of its client's that it never answered: a request in flight, which the
 * lost instance took with it. Kept by whichever daemon holds the socket to the app (the server side, or the client
 * side on the direct path), and told to the client side with the loss ({@code ABORT SERVER_LOST_UNANSWERED}), which
 * then ends its client's connection at once, as the crash ended it without Armor, instead of re-attaching it to an
 * instance that will never answer (and, for a client that pipelines, would have every later answer paired with the
 * wrong request).
 *
 * <p>Design note. Only the daemon next to the app can tell. The kernel closes a dead process's socket with a FIN only
 * when its receive queue is empty, and with a reset when input was left unread; so an end of stream from an app that
 * turns out dead means that it had read every byte the relay had handed to the kernel before it died. If the relay
 * had handed it bytes since the app's last output, the app read them and died without a word back. Two ways this can
 * err, both towards the old behaviour or towards the crash's own outcome, never towards a hang:
 *
 * <ul>
 *   <li>input the app had for less than {@link #HELD_FLOOR_NANOS} before its end does not count: in that window it
 *       cannot be told from bytes written just before or after the death, whose reset may not have been processed
 *       yet on a loaded host (a line client's next line, 20 ms after the last, was taken for a request in flight in
 *       a clean-clone run); such a connection is judged by the generic rules, as before;
 *   <li>bytes the relay wrote after the app died (between the FIN's arrival and the event loop reading it) were never
 *       read: the dead socket answers them with a reset, which moves the relay's socket to CLOSED; on the epoll
 *       transport that state is read here ({@code TCP_INFO}) and such bytes are not taken for input the app read.
 *       On NIO it cannot be, and such a connection is ended where it could have been re-attached: the outcome the
 *       crash has without Armor;
 *   <li>input the app read after it answered, but before the relay read that answer, counts as answered: the
 *       connection is re-attached and watched, as before ({@link ReconnectGuard}).
 * </ul>
 *
 * <p>Not thread-safe: confined to its connection's event loop.
 */
final class UnansweredInput {

  /**
   * How long the app must have had unanswered input, by its end, for it to count as a request in flight: far longer
   * than an event loop takes to see the end of a socket it is writing to, far shorter than the recovery stall timeout
   * the generic rules would wait instead.
   */
  static final long HELD_FLOOR_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100);

  /** {@code TCP_CLOSE} in Linux's {@code tcp_states.h}: the socket got a reset (or was closed). */
  private static final int TCP_CLOSE = 7;

  /** Bytes written towards the app so far (some may still be in the relay's outbound buffer). */
  private long written;
  /** {@link #written} when the app's output last arrived. */
  private long writtenWhenAnswered;
  /** When the first byte written since the app's last output was written; meaningful while some is unanswered. */
  private long unansweredSinceNanos;

  /** {@code bytes} more written towards the app, at {@code nowNanos}. */
  void written(long bytes, long nowNanos) {
    if (written == writtenWhenAnswered && bytes > 0) {
      unansweredSinceNanos = nowNanos;
    }
    written += bytes;
  }

  /** The app's output arrived: what was written to it before now counts as answered. */
  void answered() {
    writtenWhenAnswered = written;
  }

  /**
   * The app's socket {@code ch} read an end of stream: whether the app had read bytes after its last output (to be
   * used only if the app turns out dead: a live app may close a connection after any input).
   */
  boolean readUnansweredAtEnd(Channel ch, long nowNanos) {
    return readUnanswered(pendingBytes(ch), resetReceived(ch), nowNanos);
  }

  /**
   * {@link #readUnansweredAtEnd} on what the socket says: {@code stillPending} of the written bytes never left the
   * relay's buffer; {@code resetReceived}: the dead socket answered bytes with a reset (so the app never read those).
   */
  boolean readUnanswered(long stillPending, boolean resetReceived, long nowNanos) {
    return written - stillPending > writtenWhenAnswered && !resetReceived
        && nowNanos - unansweredSinceNanos >= HELD_FLOOR_NANOS;
  }

  /**
   * The bytes written to {@code ch} that are still in its outbound buffer, not in the kernel. Only flushed messages
   * are counted: the relay flushes at the end of every read batch, so none is left unflushed when an event of the
   * app's socket runs. (Not {@link ChannelOutboundBuffer#totalPendingWriteBytes}: it adds Netty's estimate of each
   * entry's own size.)
   */
  static long pendingBytes(Channel ch) {
    ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
    if (buffer == null) {
      return 0;
    }
    long[] pending = {0};
    try {
      buffer.forEachFlushedMessage(
          message -> {
            if (message instanceof ByteBuf bytes) {
              pending[0] += bytes.readableBytes();
            }
            return true;
          });
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the outbound buffer of " + ch, e); // the processor throws nothing
    }
    return pending[0];
  }

  /** Bytes written towards the app that count as unanswered now (for the logs). */
  long unansweredBytes() {
    return written - writtenWhenAnswered;
  }

  private static boolean resetReceived(Channel ch) {
    if (ch instanceof EpollSocketChannel epoll && epoll.isOpen()) {
      try {
        return epoll.tcpInfo().state() == TCP_CLOSE;
      } catch (RuntimeException e) {
        return false; // the descriptor is gone: nothing to read, judge by the counts
      }
    }
    return false;
  }
}
