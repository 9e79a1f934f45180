package dev.armor.security;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
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
 */
final class CertificateTrust extends X509ExtendedTrustManager {

  private final X509TrustManager chain;
  private final Set<Role> accepted;

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
    if (client) {
      chain.checkClientTrusted(peer, authType);
    } else {
      chain.checkServerTrusted(peer, authType);
    }
    Identity identity = Identity.of(peer[0]).orElseThrow(() -> new CertificateException(
        "the certificate of " + peer[0].getSubjectX500Principal().getName() + " names no Armor role"));
    if (!accepted.contains(identity.role())) {
      throw new CertificateException(identity + " may not " + (client ? "call here" : "serve here")
          + " (wanted a certificate for: " + accepted + ")");
    }
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
