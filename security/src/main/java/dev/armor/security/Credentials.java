package dev.armor.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * One identity's files on this host: its certificate and key, and the CA certificate its peers must be signed by.
 *
 * @param identity who these credentials say we are
 * @param certificate PEM certificate signed by the cluster's CA
 * @param key PEM (PKCS#8) private key, 0600
 * @param ca PEM certificate of the cluster's CA
 */
public record Credentials(Identity identity, Path certificate, Path key, Path ca) {

  /** The in-memory key store that hands the key to the JDK's key manager needs a password; nothing is written. */
  private static final char[] NO_PASSWORD = new char[0];

  /**
   * For a gRPC server that only the cluster's certificates may call (any role; {@link ControlAccess} checks each
   * call's role).
   */
  public ServerCredentials serverCredentials() throws IOException {
    return TlsServerCredentials.newBuilder()
        .keyManager(keyManagers())
        .trustManager(CertificateTrust.of(ca, EnumSet.allOf(Role.class)))
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /**
   * For a gRPC client of a cluster node (the control API is served by the FTM and the FTM-capable daemons): the
   * server must hold a node certificate of this cluster, whatever address it was reached at.
   */
  public ChannelCredentials channelCredentials() throws IOException {
    return channelCredentials(EnumSet.of(Role.NODE));
  }

  /**
   * A TLS 1.3 context for mutual authentication as this identity, accepting peers of the given roles signed by the
   * cluster's CA (for channels that are not gRPC: the cluster transport, the FTM channel, the daemons' links).
   */
  public SSLContext sslContext(Set<Role> peers) throws IOException {
    try {
      SSLContext context = SSLContext.getInstance("TLSv1.3");
      context.init(keyManagers(), new TrustManager[] {CertificateTrust.of(ca, peers)}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the credentials of " + identity + " (" + certificate + "): " + e.getMessage(), e);
    }
  }

  /** This identity's private key (PKCS#8 PEM), for a TLS stack that takes the key itself: the links' OpenSSL. */
  public PrivateKey privateKey() throws IOException {
    return PemFiles.privateKey(key);
  }

  /** This identity's certificate, signed by the cluster's CA. */
  public X509Certificate x509Certificate() throws IOException {
    try {
      return CertificateAuthority.readCertificate(certificate);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the certificate of " + identity + " (" + certificate + "): " + e.getMessage(), e);
    }
  }

  /**
   * Trust in peers of the given roles signed by the cluster's CA, checked by certificate and role, never by address
   * (the same trust {@link #sslContext} holds).
   */
  public X509ExtendedTrustManager trustManager(Set<Role> peers) throws IOException {
    return CertificateTrust.of(ca, peers);
  }

  /**
   * The JDK's key managers for this identity, from its PEM files read with the JDK alone: given the files, gRPC's
   * Netty would parse the key with Bouncy Castle's provider, whose start costs every CLI command most of a second.
   */
  private KeyManager[] keyManagers() throws IOException {
    try {
      PrivateKey privateKey = privateKey();
      X509Certificate own = x509Certificate();
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(identity.name(), privateKey, NO_PASSWORD, new Certificate[] {own});
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, NO_PASSWORD);
      return keys.getKeyManagers();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the credentials of " + identity + " (" + certificate + "): " + e.getMessage(), e);
    }
  }

  ChannelCredentials channelCredentials(Set<Role> servers) throws IOException {
    return TlsChannelCredentials.newBuilder()
        .keyManager(keyManagers())
        .trustManager(CertificateTrust.of(ca, servers))
        .build();
  }
}
