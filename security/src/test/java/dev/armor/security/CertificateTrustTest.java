package dev.armor.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trust in peers' certificates, with its memory of chains already validated: what it remembers is a chain's exact
 * bytes, so a certificate of another CA under the same name, or one of the right CA in the wrong role, is refused
 * however often a good one was taken.
 */
class CertificateTrustTest {

  /** What the JDK's TLS 1.3 passes as the key exchange. */
  private static final String TLS13 = "UNKNOWN";

  @TempDir Path home;
  @TempDir Path strangerHome;

  @Test
  void takesAGoodChainEveryTimeAndNeverAStrangersOfTheSameName() throws Exception {
    Pki pki = Pki.at(home);
    pki.initialize();
    X509ExtendedTrustManager daemons = pki.credentials(Identity.node("n1")).trustManager(EnumSet.of(Role.NODE));
    X509Certificate[] n2 = {pki.credentials(Identity.node("n2")).x509Certificate()};
    Pki stranger = Pki.at(strangerHome);
    stranger.initialize();
    X509Certificate[] impostor = {stranger.credentials(Identity.node("n2")).x509Certificate()};

    for (int handshake = 0; handshake < 3; handshake++) {
      daemons.checkClientTrusted(n2, TLS13);
      daemons.checkServerTrusted(n2, TLS13);
      assertThatThrownBy(() -> daemons.checkClientTrusted(impostor, TLS13))
          .as("a certificate of another cluster's CA, named as a node of this one, after %d good handshakes", handshake)
          .isInstanceOf(CertificateException.class);
      assertThatThrownBy(() -> daemons.checkServerTrusted(impostor, TLS13)).isInstanceOf(CertificateException.class);
    }
  }

  @Test
  void checksTheRoleOfARememberedChainEveryTime() throws Exception {
    Pki pki = Pki.at(home);
    pki.initialize();
    Credentials n1 = pki.credentials(Identity.node("n1"));
    X509Certificate[] operator = {pki.person().x509Certificate()};
    n1.trustManager(EnumSet.allOf(Role.class)).checkClientTrusted(operator, TLS13); // validated and remembered there

    X509ExtendedTrustManager daemons = n1.trustManager(EnumSet.of(Role.NODE));
    for (int handshake = 0; handshake < 2; handshake++) {
      assertThatThrownBy(() -> daemons.checkClientTrusted(operator, TLS13))
          .isInstanceOf(CertificateException.class)
          .hasMessageContaining("may not call here");
    }
    assertThat(daemons.getAcceptedIssuers()).extracting(X509Certificate::getSubjectX500Principal)
        .containsExactly(pki.trusted().getSubjectX500Principal());
  }
}
