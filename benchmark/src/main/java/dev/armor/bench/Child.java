package dev.armor.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the benchmark: its stdout lines are queued for the orchestrator and copied to a log file,
 * its stderr goes to the log file. {@link #close()} kills it (SIGKILL) and its descendants.
 */
final class Child implements AutoCloseable {

  private static final String EOF = "\u0000EOF";

  final String name;
  final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final PrintWriter stdin;

  private Child(String name, Process process, Path log) throws IOException {
    this.name = name;
    this.process = process;
    this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    OutputStream logOut = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    Thread reader = new Thread(() -> pump(logOut), "out-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  static Child start(String name, List<String> command, Map<String, String> env, Path logDir) throws IOException {
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().putAll(env);
    Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return new Child(name, builder.start(), log);
  }

  private void pump(OutputStream log) {
    try (log; BufferedReader reader = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        lines.add(line);
        log.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        log.flush();
      }
    } catch (IOException e) {
      // the process is gone
    } finally {
      lines.add(EOF);
    }
  }

  /** The next stdout line, or an exception naming the child when it ended or the timeout passed. */
  String nextLine(Duration timeout) throws IOException, InterruptedException {
    String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (line == null) {
      throw new IOException(name + ": no output within " + timeout + " (see its log)");
    }
    if (line.equals(EOF)) {
      lines.add(EOF);
      throw new IOException(name + ": ended (exit " + exitCode() + ") before answering (see its log)");
    }
    return line;
  }

  /** Skips lines until one starts with {@code prefix}. */
  String awaitLine(String prefix, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = nextLine(Duration.ofNanos(Math.max(1, left)));
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  void send(String line) {
    stdin.println(line);
  }

  private String exitCode() {
    try {
      return process.waitFor(1, TimeUnit.SECONDS) ? "" + process.exitValue() : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
