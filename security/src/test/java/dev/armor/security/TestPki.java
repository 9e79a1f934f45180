package dev.armor.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import javax.net.ssl.SSLContext;

/**
 * A cluster credential for the tests of one JVM (other modules use it through this module's test jar): made once in
 * a temporary directory, removed when the JVM ends.
 */
public final class TestPki {

  private static Pki pki;

  private TestPki() {}

  public static synchronized Pki pki() {
    if (pki == null) {
      try {
        Path home = Files.createTempDirectory("armor-test-pki-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(home)));
        pki = Pki.at(home);
        pki.initialize();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return pki;
  }

  /** {@code name}'s node credentials. */
  public static Credentials node(String name) {
    try {
      return pki().credentials(Identity.node(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Mutual TLS as node {@code name}, taking node peers. */
  public static SSLContext nodeTls(String name) {
    try {
      return node(name).sslContext(EnumSet.of(Role.NODE));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path home) {
    try (var files = Files.walk(home)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }
}
