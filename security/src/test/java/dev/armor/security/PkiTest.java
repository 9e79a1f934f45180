package dev.armor.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PkiTest {

  @TempDir Path home;
  @TempDir Path otherHost;

  @Test
  void shouldCreateTheClusterCredentialOnceWithPrivateKeys() throws Exception {
    Pki pki = Pki.at(home);
    assertThat(pki.initialize()).isTrue();
    byte[] ca = Files.readAllBytes(pki.caCertificate());
    assertThat(pki.initialize()).as("a second FTM on the host keeps the cluster's CA").isFalse();
    assertThat(Files.readAllBytes(pki.caCertificate())).isEqualTo(ca);

    assertThat(mode(pki.root())).isEqualTo("rwx------");
    assertThat(mode(pki.root().resolve("ca.key"))).isEqualTo("rw-------");
    Credentials operator = pki.credentials(Identity.OPERATOR);
    assertThat(mode(operator.key())).isEqualTo("rw-------");
    assertThat(identityIn(operator)).isEqualTo(Identity.OPERATOR);
  }

  @Test
  void shouldIssueANodeCertificateOnFirstUseWhereTheCaKeyIs() throws Exception {
    Pki pki = Pki.at(home);
    pki.initialize();
    Credentials n1 = pki.credentials(Identity.node("n1"));
    assertThat(identityIn(n1)).isEqualTo(Identity.node("n1"));
    X509Certificate certificate = CertificateAuthority.readCertificate(n1.certificate());
    certificate.verify(pki.trusted().getPublicKey());
    assertThat(certificate.getSubjectAlternativeNames().stream().map(n -> (Object) n.get(1)).toList()).containsExactly(Role.NODE_MARKER);
    byte[] issued = Files.readAllBytes(n1.certificate());
    assertThat(Files.readAllBytes(pki.credentials(Identity.node("n1")).certificate()))
        .as("a restarted daemon keeps its certificate").isEqualTo(issued);
  }

  @Test
  void shouldEnrolAnotherHostThatThenCannotIssue() throws Exception {
    Pki pki = Pki.at(home);
    pki.initialize();
    Pki remote = Pki.at(otherHost);
    assertThatThrownBy(() -> remote.credentials(Identity.node("n2")))
        .isInstanceOf(IOException.class).hasMessageContaining("armor enrol --node n2");

    pki.enrol(Identity.node("n2"), remote);
    assertThat(remote.canIssue()).as("the CA key stays on the issuing host").isFalse();
    assertThat(Files.exists(remote.root().resolve("ca.key"))).isFalse();
    Credentials n2 = remote.credentials(Identity.node("n2"));
    CertificateAuthority.readCertificate(n2.certificate()).verify(pki.trusted().getPublicKey());
    assertThatThrownBy(() -> remote.credentials(Identity.node("n3")))
        .isInstanceOf(IOException.class).hasMessageContaining("does not hold the cluster's CA key");
  }

  @Test
  void shouldRefuseNodeNamesThatCouldPassForAPerson() {
    assertThatThrownBy(() -> Identity.node("armor operator")).isInstanceOf(IllegalArgumentException.class);
  }

  private static Identity identityIn(Credentials credentials) throws Exception {
    return Identity.of(CertificateAuthority.readCertificate(credentials.certificate())).orElseThrow();
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }
}
