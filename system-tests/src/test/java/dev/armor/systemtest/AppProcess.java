package dev.armor.systemtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** An app process started by a test; its output lines are collected as they come. */
final class AppProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final List<String> lines = new ArrayList<>();

  AppProcess(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread reader = new Thread(this::read, name + "-output");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (lines) {
          lines.add(line);
        }
      }
    } catch (IOException e) {
      synchronized (lines) {
        lines.add("(output unreadable: " + e + ")");
      }
    }
  }

  List<String> lines() {
    synchronized (lines) {
      return new ArrayList<>(lines);
    }
  }

  List<String> lines(Predicate<String> filter) {
    return lines().stream().filter(filter).toList();
  }

  /** Waits until a line matches; fails with the output so far if none does in time or the process ends. */
  String awaitLine(Predicate<String> match, Duration timeout) {
    Awaitility.await(name + " prints the expected line; output so far: " + tail())
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> lines().stream().anyMatch(match));
    return lines().stream().filter(match).findFirst().orElseThrow();
  }

  String tail() {
    List<String> all = lines();
    return String.join("\n", all.subList(Math.max(0, all.size() - 20), all.size()));
  }

  Process process() {
    return process;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}
