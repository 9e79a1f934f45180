package dev.armor.shim.internal;

import dev.armor.shim.control.FrameReader;
import dev.armor.shim.control.ShimMessage;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Welcome;
import dev.armor.shim.control.ShimProtocolException;
import dev.armor.shim.control.ShimWire;
import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * One connection to the daemon's control socket, greeted with HELLO. Non-blocking with a selector of its own,
 * because a Unix domain {@code SocketChannel} has no read timeout and the app thread asking must not wait longer
 * than the configured timeout. Used by one thread at a time.
 *
 * <p>Interrupts: see {@link DaemonClient#ask}.
 */
final class DaemonChannel implements Closeable {
  /** Deadline meaning "wait as long as it takes" (the session thread waiting for pings). */
  static final long NO_DEADLINE = Long.MAX_VALUE;

  private final SocketChannel channel;
  private final Selector selector;
  private volatile boolean stopped;
  private final SelectionKey key;
  private final FrameReader reader = new FrameReader();

  private DaemonChannel(SocketChannel channel, Selector selector) throws IOException {
    this.channel = channel;
    this.selector = selector;
    this.key = channel.register(selector, 0);
  }

  /**
   * Connects to {@code socket} and says {@code hello}.
   *
   * @throws IOException nobody listens there, the daemon refused the hello, or it did not answer in time
   */
  static DaemonChannel open(Path socket, Hello hello, long timeoutNanos) throws IOException {
    long deadlineNanos = System.nanoTime() + timeoutNanos;
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    Selector selector = null;
    try {
      channel.configureBlocking(false);
      selector = Selector.open();
      DaemonChannel opened = new DaemonChannel(channel, selector);
      opened.connect(socket, deadlineNanos);
      opened.greet(hello, deadlineNanos);
      return opened;
    } catch (IOException | RuntimeException e) {
      channel.close();
      if (selector != null) {
        selector.close();
      }
      throw e;
    }
  }

  /** Sends {@code query} and waits for its one answer until {@code deadlineNanos} ({@code System.nanoTime}). */
  ShimMessage ask(ShimMessage query, long deadlineNanos) throws IOException {
    send(query, deadlineNanos);
    return receive(deadlineNanos);
  }

  void send(ShimMessage message, long deadlineNanos) throws IOException {
    ByteBuffer frame = ShimWire.encode(message);
    while (true) {
      channel.write(frame);
      if (!frame.hasRemaining()) {
        return;
      }
      await(SelectionKey.OP_WRITE, deadlineNanos);
    }
  }

  /** The next message, waiting until {@code deadlineNanos} at most. */
  ShimMessage receive(long deadlineNanos) throws IOException {
    while (true) {
      ShimMessage message = reader.read(channel);
      if (message != null) {
        return message;
      }
      await(SelectionKey.OP_READ, deadlineNanos);
    }
  }

  /**
   * The next message if one arrives by {@code deadlineNanos}, else null (no exception: the session thread polls
   * this way every heartbeat). A last look at the socket after the deadline, so an answer that arrived while this
   * thread was not running (the process was stopped) is seen before anyone concludes there was none.
   */
  ShimMessage poll(long deadlineNanos) throws IOException {
    while (true) {
      ShimMessage message = reader.read(channel);
      if (message != null) {
        return message;
      }
      if (!ready(SelectionKey.OP_READ, deadlineNanos)) {
        return reader.read(channel);
      }
    }
  }

  /**
   * Makes a {@link #poll} waiting in another thread return now, and every later one at once (null if nothing
   * arrived): for a process that is exiting.
   */
  void stopWaiting() {
    stopped = true;
    selector.wakeup();
  }

  /** The next message if a whole one has already arrived, else null; never waits. */
  ShimMessage readNow() throws IOException {
    return reader.read(channel);
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // closing a Unix domain socket does not fail in a way worth reporting
    }
    try {
      selector.close();
    } catch (IOException ignored) {
      // as above
    }
  }

  /** Connects without blocking past the deadline: a daemon with a full accept backlog must not stall the app. */
  private void connect(Path socket, long deadlineNanos) throws IOException {
    if (!channel.connect(UnixDomainSocketAddress.of(socket))) {
      await(SelectionKey.OP_CONNECT, deadlineNanos);
      channel.finishConnect();
    }
  }

  private void greet(Hello hello, long deadlineNanos) throws IOException {
    ShimMessage answer = ask(hello, deadlineNanos);
    if (answer instanceof DaemonError error) {
      throw new IOException("the daemon refused the connection: " + error.message());
    }
    if (!(answer instanceof Welcome)) {
      throw new ShimProtocolException("the daemon answered HELLO with " + answer);
    }
  }

  /**
   * Waits until {@code operation} is ready. An interrupt ends the wait with {@link ClosedByInterruptException}
   * and the flag cleared (the selector would return at once forever otherwise); {@link DaemonClient} closes this
   * channel, asks again on another and sets the flag back.
   */
  private void await(int operation, long deadlineNanos) throws IOException {
    if (!ready(operation, deadlineNanos)) {
      throw new SocketTimeoutException("no answer within the shim's timeout");
    }
  }

  /** Waits until {@code operation} is ready (true) or the deadline passes (false); interrupts as for await. */
  private boolean ready(int operation, long deadlineNanos) throws IOException {
    key.interestOps(operation);
    while (selector.select(millisUntil(deadlineNanos)) == 0) {
      if (stopped) {
        return false;
      }
      if (Thread.interrupted()) {
        throw new ClosedByInterruptException();
      }
      if (deadlineNanos != NO_DEADLINE && System.nanoTime() - deadlineNanos >= 0) {
        return false;
      }
    }
    selector.selectedKeys().clear();
    return true;
  }

  private static long millisUntil(long deadlineNanos) {
    if (deadlineNanos == NO_DEADLINE) {
      return 0; // select(0) waits without limit
    }
    long nanos = deadlineNanos - System.nanoTime();
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }
}
