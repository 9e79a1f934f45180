package dev.armor.systemtest;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;

/**
 * What the never-worse tests (a real server killed with and without Armor) share: a client app driven one command
 * per line on its stdin, whose printed results are read in order; a server run plainly, without Armor; and the two
 * steps a scenario is given, where the server's pid comes from and how it is killed.
 */
final class NeverWorseKit {

  private NeverWorseKit() {}

  /** Where the serving process's pid comes from (without Armor: the test's own process; with: the node's). */
  @FunctionalInterface
  interface PidSource {
    long get() throws Exception;
  }

  /** Kills the server process {@code pid} and returns once a new one serves. */
  @FunctionalInterface
  interface Kill {
    void run(long pid) throws Exception;
  }

  /** A client app that reads commands from stdin and prints a line per result. */
  static final class ScriptedClient {
    private final AppProcess app;
    /** Lines already read by {@link #awaitLine}. */
    private int seen;

    ScriptedClient(AppProcess app) {
      this.app = app;
    }

    AppProcess app() {
      return app;
    }

    void send(String command) throws IOException {
      OutputStream in = app.process().getOutputStream();
      in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    /** Sends {@code command} and returns the next line starting with one of {@code prefixes}. */
    String run(String command, String... prefixes) throws IOException {
      send(command);
      return awaitLine(prefixes);
    }

    /** The client's next line starting with one of {@code prefixes}, after those already read (no hang: 60 s). */
    String awaitLine(String... prefixes) {
      Awaitility.await("the client answers (no hang); output: " + app.lines()).atMost(Duration.ofSeconds(60))
          .until(() -> next(prefixes) >= 0);
      int index = next(prefixes);
      seen = index + 1;
      return app.lines().get(index);
    }

    private int next(String... prefixes) {
      List<String> lines = app.lines();
      for (int i = seen; i < lines.size(); i++) {
        for (String prefix : prefixes) {
          if (lines.get(i).startsWith(prefix)) {
            return i;
          }
        }
      }
      return -1;
    }
  }

  /** Starts {@code command}, a server of {@code port} on 127.0.0.1, unwrapped; returns once it accepts. */
  static Process startPlain(List<String> command, int port) throws Exception {
    try (Socket stray = new Socket("127.0.0.1", port)) {
      throw new IllegalStateException("something already listens on 127.0.0.1:" + port + " (a server left running?)");
    } catch (java.net.ConnectException free) {
      // as it should be
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process process = builder.start();
    Awaitility.await("the server listens on " + port).atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> {
          new Socket("127.0.0.1", port).close();
          return true;
        });
    return process;
  }
}
