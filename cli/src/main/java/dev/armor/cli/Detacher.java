package dev.armor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a long-running armor command (an FTM, a daemon) as a process of its own and returns when it is ready:
 * the child writes its pid file only once it is up; if it exits first, its log says why. The child gets this JVM's
 * tuning options ({@code -XX:}, {@code -Xm*}, {@code -Xss}: those {@code scripts/armor} sets, and
 * {@code ARMOR_JVM_OPTS}), so a detached daemon runs as one started in the foreground.
 */
final class Detacher {

  private Detacher() {}

  static long spawn(String name, List<String> commandArgs, ArmorHome home, Duration timeout) throws IOException, InterruptedException {
    Path log = home.privateLogs().resolve(name + ".log");
    Path pidFile = home.pids().resolve(name + ".pid");
    Files.deleteIfExists(pidFile);
    List<String> command = new ArrayList<>();
    command.add(Installation.java().toString());
    command.addAll(tuningOptions(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
    for (String property : List.of("armor.shim.jar", "armor.demo.jar", "armor.root")) {
      String value = System.getProperty(property);
      if (value != null) {
        command.add("-D" + property + "=" + value);
      }
    }
    command.add("-Darmor.home=" + home.root());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(commandArgs);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(pidFile) && Files.readString(pidFile).trim().equals(Long.toString(process.pid()))) {
        return process.pid();
      }
      if (!process.isAlive()) {
        throw new ArmorCliException(name + " exited with status " + process.exitValue() + " while starting; its log "
            + log + " ends with:\n" + tail(log));
      }
      Thread.sleep(50); // polling a file another process writes; no event to await
    }
    process.destroyForcibly();
    throw new ArmorCliException(name + " was not ready within " + timeout.toSeconds() + " s; see " + log);
  }

  /** The JVM tuning options among {@code jvmArguments} (no agents, no system properties, no class path). */
  static List<String> tuningOptions(List<String> jvmArguments) {
    List<String> tuning = new ArrayList<>();
    for (String argument : jvmArguments) {
      if (argument.startsWith("-XX:") || argument.startsWith("-Xm") || argument.startsWith("-Xss")) {
        tuning.add(argument);
      }
    }
    return tuning;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }
}
