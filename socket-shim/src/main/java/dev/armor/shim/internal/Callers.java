package dev.armor.shim.internal;

import java.lang.StackWalker.StackFrame;
import java.util.Optional;

/**
 * Who called {@code sun.nio.ch.Net.connect}. UDP "connects" ({@code DatagramChannelImpl}, also behind {@code
 * DatagramSocket}) go through it too and must be left alone; the file descriptor does not say whether it is a
 * datagram socket, the caller does. A stack walk costs microseconds, against the milliseconds of a TCP connect.
 */
final class Callers {
  private static final String NET = "sun.nio.ch.Net";
  private static final String DATAGRAM_CHANNEL = "sun.nio.ch.DatagramChannelImpl";
  private static final StackWalker WALKER = StackWalker.getInstance();

  private Callers() {}

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
