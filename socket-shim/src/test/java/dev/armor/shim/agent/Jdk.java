package dev.armor.shim.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The JDKs the shim must work on, as child JVMs. JDK 25 tests are skipped only where it is not installed. */
enum Jdk {
  JDK_17(Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")),
  JDK_25(Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"));

  private final Path preferred;

  Jdk(Path preferred) {
    this.preferred = preferred;
  }

  /** The {@code java} launcher; assumes (skips the test) when this JDK is not installed. */
  Path java() {
    if (Files.isExecutable(preferred)) {
      return preferred;
    }
    if (this == JDK_17 && Runtime.version().feature() == 17) {
      return Path.of(System.getProperty("java.home"), "bin", "java");
    }
    Assumptions.abort(this + " is not installed at " + preferred);
    return preferred;
  }
}
