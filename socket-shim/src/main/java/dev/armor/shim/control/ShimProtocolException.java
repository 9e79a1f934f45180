package dev.armor.shim.control;

import java.io.IOException;

/** A frame that breaks the shim control protocol; the connection that sent it is closed. */
public final class ShimProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  public ShimProtocolException(String message) {
    super(message);
  }

  public ShimProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
