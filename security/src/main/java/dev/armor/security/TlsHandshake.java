package dev.armor.security;

import io.grpc.Status;
import java.io.IOException;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * The TLS handshake of Armor's channels between processes, in one place: its time bound (the links' Netty handlers,
 * the FTM channel's sockets), the handshake over a connected blocking socket, and how a refused certificate is told
 * from a connection that only broke.
 */
public final class TlsHandshake {

  /**
   * A peer that does not finish its handshake in this time is closed: long enough for a loaded host's first one (the
   * JDK's TLS classes loaded and compiled cold), short enough that a silent peer holds nothing for long.
   */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private TlsHandshake() {}

  /**
   * {@code socket} (connected, blocking) under TLS with {@code tls}, its handshake done within {@link #TIMEOUT}; as
   * the server it requires the peer's certificate. Closing the returned socket closes {@code socket}.
   */
  public static SSLSocket over(SSLContext tls, Socket socket, boolean client) throws IOException {
    SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket,
        socket.getInetAddress().getHostAddress(), socket.getPort(), true);
    ssl.setUseClientMode(client);
    if (!client) {
      ssl.setNeedClientAuth(true);
    }
    ssl.setSoTimeout((int) TIMEOUT.toMillis());
    ssl.startHandshake();
    ssl.setSoTimeout(0);
    return ssl;
  }

  /**
   * Why a gRPC call failed because one side did not trust the other's certificate, if it did; not a connection that
   * broke mid-handshake, which a peer going down causes too. gRPC reports the refusal as the cause, or, for a call that
   * waited for its channel to be ready, only inside the description of its deadline.
   */
  public static Optional<String> certificateRefusal(Status status) {
    StringBuilder text = new StringBuilder(String.valueOf(status.getDescription()));
    String reason = null;
    for (Throwable cause = status.getCause(); cause != null; cause = cause.getCause()) {
      if (cause instanceof CertificateException) {
        return Optional.of(String.valueOf(cause.getMessage()));
      }
      if (reason == null && cause instanceof SSLException) {
        reason = cause.getMessage();
      }
      text.append(' ').append(cause.getMessage());
    }
    String all = text.toString();
    boolean refused = all.contains("SSLHandshakeException")
        && (all.contains("certificate") || all.contains("PKIX") || all.contains("unknown_ca"));
    return refused ? Optional.of(reason != null ? reason : "the TLS handshake was refused") : Optional.empty();
  }
}
