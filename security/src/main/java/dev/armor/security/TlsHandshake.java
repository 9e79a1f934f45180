package dev.armor.security;

import io.grpc.Status;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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

  /** Closes handshakes past their time; one thread for the process, idle but for that. */
  private static final ScheduledThreadPoolExecutor DEADLINES = deadlines();

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
    // The bound is on the whole handshake, not on each read: a peer that trickles a byte every few seconds would
    // never trip a read timeout, and would hold its connection (and the thread doing its handshake) for ever.
    ssl.setSoTimeout((int) TIMEOUT.toMillis());
    ScheduledFuture<?> deadline =
        DEADLINES.schedule(() -> closeQuietly(socket), TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    try {
      ssl.startHandshake();
    } catch (IOException e) {
      throw deadline.cancel(false) ? e : late(e);
    }
    if (!deadline.cancel(false)) {
      throw late(null); // done just as the deadline closed the socket
    }
    ssl.setSoTimeout(0);
    return ssl;
  }

  private static SocketTimeoutException late(IOException cause) {
    SocketTimeoutException late = new SocketTimeoutException("no handshake within " + TIMEOUT.toSeconds() + " s");
    late.initCause(cause);
    return late;
  }

  private static ScheduledThreadPoolExecutor deadlines() {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
        task -> {
          Thread thread = new Thread(task, "armor-tls-handshake-deadlines");
          thread.setDaemon(true);
          return thread;
        });
    executor.setRemoveOnCancelPolicy(true); // a finished handshake leaves nothing behind
    return executor;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing to stop a handshake: nothing more to do
    }
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
