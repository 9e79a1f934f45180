package dev.armor.shim.internal;

import java.lang.StackWalker.StackFrame;
import java.util.Optional;

/**
 * Who called {@code sun.nio.ch.Net.connect}, or Netty's {@code unix.Socket.bind}. UDP "connects" ({@code DatagramChannelImpl}, also behind {@code
 * DatagramSocket}) go through it too and must be left alone; the file descriptor does not say whether it is a
 * datagram socket, the caller does. A stack walk costs microseconds, against the milliseconds of a TCP connect.
 */
final class Callers {
  private static final String NET = "sun.nio.ch.Net";
  private static final String DATAGRAM_CHANNEL = "sun.nio.ch.DatagramChannelImpl";
  private static final String NETTY_SOCKET = "netty.channel.unix.Socket";
  private static final StackWalker WALKER = StackWalker.getInstance();

  private Callers() {}

  /**
   * True when the Netty {@code unix.Socket.bind} on this thread's stack was called for a server channel: a server
   * channel's {@code doBind} ({@code EpollServerSocketChannel}, {@code IoUringServerSocketChannel}, any copy) is
   * among its first callers, where a client channel's bind before its connect has {@code AbstractEpollChannel} and
   * its unsafe only. Frames name the declaring class, so the shared {@code AbstractEpollChannel.doBind} is not enough.
   */
  static boolean isNettyServerBind() {
    return WALKER.walk(frames -> frames
        .map(StackFrame::getClassName)
        .dropWhile(name -> !name.endsWith(NETTY_SOCKET))
        .dropWhile(name -> name.endsWith(NETTY_SOCKET))
        .limit(4)
        .anyMatch(name -> name.contains("ServerSocketChannel") || name.contains("ServerChannel")));
  }

  /** True when the {@code Net.connect} on this thread's stack was called by a datagram channel. */
  static boolean isDatagramConnect() {
    Optional<String> caller = WALKER.walk(frames -> frames
        .map(StackFrame::getClassName)
        .dropWhile(name -> !name.equals(NET))
        .dropWhile(NET::equals)
        .findFirst());
    return caller.map(DATAGRAM_CHANNEL::equals).orElse(false);
  }
}
