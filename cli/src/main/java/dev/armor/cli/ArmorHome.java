package dev.armor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Armor's working directory on this machine: {@code $ARMOR_HOME}, else {@code ~/.armor}. It holds {@code run/}
 * (private: shim sockets), {@code logs/} and {@code pids/} (what {@code armor stop} stops).
 */
public final class ArmorHome {

  private final Path root;

  private ArmorHome(Path root) {
    this.root = root;
  }

  public static ArmorHome resolve() {
    String configured = System.getProperty("armor.home", System.getenv("ARMOR_HOME"));
    Path root = configured == null || configured.isBlank()
        ? Path.of(System.getProperty("user.home"), ".armor")
        : Path.of(configured);
    return new ArmorHome(root.toAbsolutePath());
  }

  public Path root() {
    return root;
  }

  public Path logs() {
    return root.resolve("logs");
  }

  /**
   * The log directory, made if needed and kept to this user (0700): logs name command lines, addresses and whatever
   * the apps print.
   */
  public Path privateLogs() throws IOException {
    Files.createDirectories(logs());
    Files.setPosixFilePermissions(logs(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    return logs();
  }

  public Path pids() {
    return root.resolve("pids");
  }

  public void writePid(String name) throws IOException {
    Files.createDirectories(pids());
    Files.writeString(pids().resolve(name + ".pid"), Long.toString(ProcessHandle.current().pid()));
  }

  public void removePid(String name) {
    try {
      Files.deleteIfExists(pids().resolve(name + ".pid"));
    } catch (IOException e) {
      // Best effort: a stale pid file is checked against the live process before use.
    }
  }

  /** The pid files: name and pid. */
  public List<String[]> pidFiles() throws IOException {
    List<String[]> result = new ArrayList<>();
    if (!Files.isDirectory(pids())) {
      return result;
    }
    try (Stream<Path> files = Files.list(pids())) {
      for (Path file : files.filter(f -> f.toString().endsWith(".pid")).toList()) {
        String name = file.getFileName().toString().replaceFirst("\\.pid$", "");
        result.add(new String[] {name, Files.readString(file).trim(), file.toString()});
      }
    }
    return result;
  }
}
