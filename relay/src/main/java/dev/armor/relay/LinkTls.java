package dev.armor.relay;

import dev.armor.security.Credentials;
import dev.armor.security.Role;
import dev.armor.security.TlsHandshake;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Objects;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How a relay's links between daemons are secured: mutual TLS 1.3, each end showing its node's certificate and
 * checking the other's against the cluster's CA (node certificates only, {@link Credentials#trustManager}). A link is a
 * daemon's word about a client (its address reaches the app), so no byte of a link is read before the handshake has
 * shown the peer is a daemon of the cluster.
 *
 * <p>The TLS is BoringSSL's (netty-tcnative) where its native library loads, the JDK's elsewhere. Between hosts every
 * relayed byte is encrypted twice and decrypted twice, and every dedicated link starts with a handshake: the JDK's
 * AES-GCM and P-256 are Java code that only C2 turns into AES-NI and CLMUL instructions, and Armor's JVMs compile with
 * C1 (scripts/armor), where they ran at about 40 MB/s and a few milliseconds of CPU per handshake (docs/PERFORMANCE.md,
 * run 12). BoringSSL's are native whatever the JIT does.
 *
 * <p>Only links are secured: the app connections (loopback, or the client's own connection to a service address)
 * carry what the app sent, as without Armor; on the direct path the link carries only control frames.
 */
public final class LinkTls {

  /** The TLS the links use: BoringSSL where netty-tcnative's library loads on this platform, else the JDK's. */
  public static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
  private static final String PROTOCOL = "TLSv1.3";

  /** Links in the clear: only for relays of one test JVM. A daemon always starts its relay with {@link #of}. */
  public static final LinkTls PLAINTEXT = new LinkTls(null, null);

  private final SslContext client;
  private final SslContext server;

  private LinkTls(SslContext client, SslContext server) {
    this.client = client;
    this.server = server;
  }

  /** Mutual TLS as {@code node}, whose credentials must be a node's of the cluster. */
  public static LinkTls of(Credentials node) throws IOException {
    Objects.requireNonNull(node, "node");
    PrivateKey key = node.privateKey();
    X509Certificate certificate = node.x509Certificate();
    X509ExtendedTrustManager daemons = node.trustManager(EnumSet.of(Role.NODE));
    try {
      return new LinkTls(
          SslContextBuilder.forClient().sslProvider(PROVIDER).protocols(PROTOCOL)
              .keyManager(key, certificate).trustManager(daemons).build(),
          SslContextBuilder.forServer(key, certificate).sslProvider(PROVIDER).protocols(PROTOCOL)
              .trustManager(daemons).clientAuth(ClientAuth.REQUIRE).build());
    } catch (javax.net.ssl.SSLException e) {
      throw new IOException("cannot secure links as " + node.identity() + ": " + e.getMessage(), e);
    }
  }

  /** For the relay's start line: what secures the links. */
  public String describe() {
    if (!enabled()) {
      return "links in the clear";
    }
    return PROVIDER == SslProvider.OPENSSL ? "mutual TLS 1.3 (BoringSSL)"
        : "mutual TLS 1.3 (the JDK's: BoringSSL did not load: " + OpenSsl.unavailabilityCause() + ")";
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
