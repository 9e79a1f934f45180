package dev.armor.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seal of the FTM's replicated rows, and the cluster's tables key it is made from. */
class TableSealTest {

  @TempDir Path home;
  @TempDir Path otherHost;

  @Test
  void opensWhatItSealedForTheSameRowOnly() throws IOException {
    Pki pki = Pki.at(home);
    pki.initialize();
    TableSeal seal = pki.tableSeal();
    byte[] secret = "DB_PASSWORD=hunter2".getBytes(StandardCharsets.UTF_8);

    byte[] sealed = seal.seal(secret, "exec-n1-a");

    assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("hunter2");
    assertThat(seal.open(sealed, "exec-n1-a")).isEqualTo(secret);
    assertThat(seal.seal(secret, "exec-n1-a")).as("a fresh nonce each time").isNotEqualTo(sealed);
    assertThatThrownBy(() -> seal.open(sealed, "exec-n2-b")).isInstanceOf(IOException.class)
        .hasMessageContaining("exec-n2-b");
    byte[] altered = sealed.clone();
    altered[altered.length - 1] ^= 1;
    assertThatThrownBy(() -> seal.open(altered, "exec-n1-a")).isInstanceOf(IOException.class);
    Pki stranger = Pki.at(otherHost);
    stranger.initialize();
    assertThatThrownBy(() -> stranger.tableSeal().open(sealed, "exec-n1-a")).isInstanceOf(IOException.class)
        .hasMessageContaining("another cluster's tables key");
  }

  @Test
  void theKeyIsPrivateAndGoesOnlyWhereItIsEnrolled() throws IOException {
    Pki issuer = Pki.at(home);
    issuer.initialize();
    Path key = issuer.root().resolve("tables.key");
    assertThat(Files.getPosixFilePermissions(key)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    byte[] sealed = issuer.tableSeal().seal(new byte[] {42}, "row");

    Pki node = Pki.at(otherHost);
    issuer.enrol(Identity.node("n3"), node);
    assertThatThrownBy(node::tableSeal).isInstanceOf(IOException.class)
        .hasMessageContaining("armor enrol --node NAME --ftm-capable");

    issuer.enrolTablesKey(node);
    assertThat(node.tableSeal().open(sealed, "row")).containsExactly(42);
  }
}
