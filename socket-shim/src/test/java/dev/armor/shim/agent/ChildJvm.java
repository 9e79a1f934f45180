package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An app in a child JVM started with the built agent jar: {@link dev.armor.shim.testapp.ProbeApp} running the
 * given commands. Reads its output as it comes; every wait has a hard timeout and, on failure, the message carries
 * the child's whole stdout and stderr. Closing kills it.
 */
final class ChildJvm implements AutoCloseable {
  static final long TIMEOUT_SECONDS = 30;

  private final Process process;
  private final BlockingQueue<String> unread = new LinkedBlockingQueue<>();
  private final List<String> stdout = new CopyOnWriteArrayList<>();
  private final List<String> stderr = new CopyOnWriteArrayList<>();
  private final Thread stdoutReader;
  private final Thread stderrReader;

  private ChildJvm(Process process) {
    this.process = process;
    this.stdoutReader = pump(process.getInputStream(), line -> {
      stdout.add(line);
      unread.add(line);
    });
    this.stderrReader = pump(process.getErrorStream(), stderr::add);
  }

  /** Starts {@code jdk}'s java with {@code -javaagent:<agent jar>[=agentArgs]} (none when null). */
  static ChildJvm start(Jdk jdk, String agentArgs, List<String> classPathExtras, Map<String, String> env,
      String... commands) throws IOException {
    return start(jdk, agentArgs, List.of(), classPathExtras, env, commands);
  }

  /** The same with extra JVM options before {@code -javaagent}. */
  static ChildJvm start(Jdk jdk, String agentArgs, List<String> jvmOptions, List<String> classPathExtras,
      Map<String, String> env, String... commands) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(jdk.java().toString());
    command.addAll(jvmOptions);
    command.add("-javaagent:" + agentJar() + (agentArgs == null ? "" : "=" + agentArgs));
    // Short-lived children never reach C2; stopping at C1 only saves the compile threads' CPU on a 2-core machine.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    List<String> classPath = new ArrayList<>();
    classPath.add(System.getProperty("armor.shim.testClasses", "target/test-classes"));
    classPath.addAll(classPathExtras);
    command.add(String.join(java.io.File.pathSeparator, classPath));
    command.add("dev.armor.shim.testapp.ProbeApp");
    command.addAll(List.of(commands));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().remove("ARMOR_ARMOR_ID");
    builder.environment().putAll(env);
    return new ChildJvm(builder.start());
  }

  static Path agentJar() {
    Path jar = Path.of(System.getProperty("armor.shim.agentJar", "target/armor-socket-shim-agent.jar"));
    if (!Files.isRegularFile(jar)) {
      fail("the agent jar " + jar.toAbsolutePath() + " is missing: build with mvn -pl socket-shim test (it is made"
          + " in process-classes)");
    }
    return jar;
  }

  long pid() {
    return process.pid();
  }

  /** The next unread line starting with {@code prefix} (earlier unread lines are skipped). */
  String awaitLine(String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? unread.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        fail("no line starting with '" + prefix + "' within " + TIMEOUT_SECONDS + " s\n" + describe());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
      if (line.startsWith("ERR ") || line.equals("DONE")) {
        fail("expected a line starting with '" + prefix + "', but got '" + line + "'\n" + describe());
      }
    }
  }

  /** Waits for the app to exit on its own; its exit code. */
  int awaitExit() throws InterruptedException {
    if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      fail("the app did not exit within " + TIMEOUT_SECONDS + " s\n" + describe());
    }
    stdoutReader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
    stderrReader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
    return process.exitValue();
  }

  /** Sends a line to the app's stdin (its {@code wait} command returns on "quit"). */
  void send(String line) {
    PrintWriter in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    in.println(line);
  }

  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  List<String> stdout() {
    return stdout;
  }

  List<String> stderr() {
    return stderr;
  }

  String describe() {
    return "---- child stdout ----\n" + String.join("\n", stdout) + "\n---- child stderr ----\n"
        + String.join("\n", stderr) + "\n----";
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  private interface LineSink {
    void accept(String line);
  }

  private static Thread pump(InputStream stream, LineSink sink) {
    Thread thread = new Thread(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        for (String line; (line = reader.readLine()) != null; ) {
          sink.accept(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    }, "child-output");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
