package dev.armor.relay;

import dev.armor.security.TlsHandshake;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * How a relay's links between daemons are secured: mutual TLS, each end showing its node's certificate and checking
 * the other's with the trust manager of the {@link SSLContext} it is given (the daemon's: node certificates of the
 * cluster's CA only). A link is a daemon's word about a client (its address reaches the app), so no byte of a link
 * is read before the handshake has shown the peer is a daemon of the cluster.
 *
 * <p>Only links are secured: the app connections (loopback, or the client's own connection to a service address)
 * carry what the app sent, as without Armor; on the direct path the link carries only control frames.
 */
public final class LinkTls {

  /** Links in the clear: only for relays of one test JVM. A daemon always starts its relay with {@link #of}. */
  public static final LinkTls PLAINTEXT = new LinkTls(null, null);

  private final SslContext client;
  private final SslContext server;

  private LinkTls(SslContext client, SslContext server) {
    this.client = client;
    this.server = server;
  }

  /** Mutual TLS with {@code context}'s key and trust. */
  public static LinkTls of(SSLContext context) {
    Objects.requireNonNull(context, "context");
    return new LinkTls(jdk(context, true), jdk(context, false));
  }

  @SuppressWarnings("deprecation") // the constructor that takes a ready SSLContext, which is what the daemon has
  private static SslContext jdk(SSLContext context, boolean client) {
    return new JdkSslContext(context, client, null, IdentityCipherSuiteFilter.INSTANCE, ApplicationProtocolConfig.DISABLED,
        client ? ClientAuth.NONE : ClientAuth.REQUIRE, null, false);
  }

  /** Whether links are secured. */
  public boolean enabled() {
    return client != null;
  }

  /** The first handler of a link this relay opens (null when links are in the clear). */
  public SslHandler clientHandler(ByteBufAllocator alloc) {
    return handler(client, alloc);
  }

  /** The first handler of a link this relay accepts (null when links are in the clear). */
  public SslHandler serverHandler(ByteBufAllocator alloc) {
    return handler(server, alloc);
  }

  private static SslHandler handler(SslContext context, ByteBufAllocator alloc) {
    if (context == null) {
      return null;
    }
    SslHandler handler = context.newHandler(alloc);
    handler.setHandshakeTimeoutMillis(TlsHandshake.TIMEOUT.toMillis());
    return handler;
  }
}
