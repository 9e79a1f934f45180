package dev.armor.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the parts of this Armor installation are: the shim agent jar, the demo jar, the JVM. */
final class Installation {

  private Installation() {}

  /** The socket shim agent jar: {@code -Darmor.shim.jar}, else next to the source tree's build output. */
  static Path shimJar() {
    return locate("armor.shim.jar", "socket-shim/target/armor-socket-shim-agent.jar");
  }

  static Path demoJar() {
    return locate("armor.demo.jar", "demo-audio-streamer/target/armor-demo-audio-streamer-0.1.0-SNAPSHOT.jar");
  }

  static Path java() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  private static Path locate(String property, String relative) {
    String configured = System.getProperty(property);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    String root = System.getProperty("armor.root");
    Path candidate = Path.of(root == null ? "." : root, relative).toAbsolutePath().normalize();
    if (!Files.exists(candidate)) {
      throw new IllegalStateException(
          "cannot find " + relative + " (set -D" + property + "=PATH, or build with: mvn -q package -DskipTests)");
    }
    return candidate;
  }
}
