package dev.armor.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Trusts a peer for the certificate the cluster's CA signed and the role written in it, not for its address.
 *
 * <p>An {@link X509ExtendedTrustManager} on purpose: given a plain {@code X509TrustManager}, the JDK wraps it and
 * checks the host name the client dialled against the server's certificate, and Armor's nodes are reached at
 * whatever address the operator gave (an FTM-capable daemon serves the control API at its own). What identifies a
 * cluster node is its certificate's role; the chain is checked by the JDK's PKIX validator against the CA alone.
 *
 * <p>A chain the validator accepted is remembered ({@link #VALIDATED_FOR}, {@link #VALIDATED_MAX} chains), so that the
 * next handshake showing the very same certificates (byte for byte, for the same side and key exchange) only has its
 * validity dates checked again: daemons open a link per client connection to the same few peers, and the validator
 * verifies the CA's ECDSA signature in Java, which under Armor's C1-compiled JVMs took a millisecond or more of every
 * new connection's path. Nothing is lost by it: the CA is this trust's for its whole life (a new CA file makes a new
 * trust) and the cluster has no revocation list (docs/SECURITY.md).
 */
final class CertificateTrust extends X509ExtendedTrustManager {

  /** How long a validated chain is taken on its bytes alone (its dates are still checked on every handshake). */
  static final Duration VALIDATED_FOR = Duration.ofMinutes(10);
  /** How many validated chains are remembered: a cluster's nodes and people, with room to spare. */
  static final int VALIDATED_MAX = 4096;

  private final X509TrustManager chain;
  private final Set<Role> accepted;
  private final Cache<ByteBuffer, Boolean> validated =
      Caffeine.newBuilder().maximumSize(VALIDATED_MAX).expireAfterWrite(VALIDATED_FOR).build();

  private CertificateTrust(X509TrustManager chain, Set<Role> accepted) {
    this.chain = chain;
    this.accepted = Set.copyOf(accepted);
  }

  static CertificateTrust of(Path caFile, Set<Role> accepted) throws IOException {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("armor-cluster-ca", CertificateAuthority.readCertificate(caFile));
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      for (var manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          return new CertificateTrust(x509, accepted);
        }
      }
      throw new GeneralSecurityException("the JDK offers no X.509 trust manager");
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust the cluster's CA " + caFile + ": " + e.getMessage(), e);
    }
  }

  private void check(X509Certificate[] peer, String authType, boolean client) throws CertificateException {
    if (peer == null || peer.length == 0) {
      throw new CertificateException("the peer sent no certificate");
    }
    ByteBuffer seen = fingerprint(peer, authType, client);
    if (validated.getIfPresent(seen) != null) {
      for (X509Certificate certificate : peer) {
        certificate.checkValidity();
      }
    } else {
      if (client) {
        chain.checkClientTrusted(peer, authType);
      } else {
        chain.checkServerTrusted(peer, authType);
      }
      validated.put(seen, Boolean.TRUE);
    }
    Identity identity = Identity.of(peer[0]).orElseThrow(() -> new CertificateException(
        "the certificate of " + peer[0].getSubjectX500Principal().getName() + " names no Armor role"));
    if (!accepted.contains(identity.role())) {
      throw new CertificateException(identity + " may not " + (client ? "call here" : "serve here")
          + " (wanted a certificate for: " + accepted + ")");
    }
  }

  /** The chain's bytes, the side that showed it and the key exchange: what the validator's verdict depended on. */
  private static ByteBuffer fingerprint(X509Certificate[] peer, String authType, boolean client)
      throws CertificateEncodingException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(1024);
    bytes.write(client ? 'C' : 'S');
    bytes.writeBytes(String.valueOf(authType).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    for (X509Certificate certificate : peer) {
      byte[] der = certificate.getEncoded();
      bytes.write(0);
      bytes.writeBytes(der);
    }
    return ByteBuffer.wrap(bytes.toByteArray());
  }

  @Override
  public void checkClientTrusted(X509Certificate[] peer, String authType) throws CertificateException {
    check(peer, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] peer, String authType) throws CertificateException {
    check(peer, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] peer, String authType, Socket socket) throws CertificateException {
    check(peer, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] peer, String authType, Socket socket) throws CertificateException {
    check(peer, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] peer, String authType, SSLEngine engine) throws CertificateException {
    check(peer, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] peer, String authType, SSLEngine engine) throws CertificateException {
    check(peer, authType, false);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return chain.getAcceptedIssuers();
  }
}
