package dev.armor.shim.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;

/** The exceptions the app sees when the daemon refuses or cannot be asked: the types its code already handles. */
final class Failures {
  private Failures() {}

  static ConnectException connect(String message, Throwable cause) {
    return withCause(new ConnectException(message), cause);
  }

  static BindException bind(String message, Throwable cause) {
    return withCause(new BindException(message), cause);
  }

  /** "the Armor daemon at P for node N is not reachable (cause)". */
  static String notReachable(ShimConfig config, IOException cause) {
    return capitalized(config.daemonName()) + " is not reachable (" + cause.getMessage() + ")";
  }

  /** "Connection refused: the Armor daemon ... does not listen on A any more (the connect met its own socket)". */
  static String selfConnected(ShimConfig config, java.net.InetSocketAddress listener) {
    return "Connection refused: " + config.daemonName() + " does not listen on " + listener.getAddress().getHostAddress()
        + ":" + listener.getPort() + " any more (the connect met its own socket)";
  }

  static String badAnswer(ShimConfig config, Object query, Object answer) {
    return capitalized(config.daemonName()) + " answered " + query + " with " + answer;
  }

  private static String capitalized(String text) {
    return Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }

  private static <E extends SocketException> E withCause(E exception, Throwable cause) {
    if (cause != null) {
      exception.initCause(cause);
    }
    return exception;
  }
}
