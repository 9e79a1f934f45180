package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** What the client saw of one request: {@code ANSWERED ...} or {@code ERROR REQUEST type=CLASS ...}, then its ms. */
  record Outcome(String line) {
    boolean answered() {
      return line.startsWith("ANSWERED ");
    }

    long millis() {
      return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
    }

    /** "answered" (with its HTTP status when not 200), or the exception's class: what the app's handler acts on. */
    String kind() {
      if (answered()) {
        return line.matches(".* status=\\d+ .*") && !line.contains(" status=200 ")
            ? "answered " + line.replaceFirst(".* status=(\\d+) .*", "$1") : "answered";
      }
      return line.replaceFirst("ERROR .*? type=(\\S+) .*", "$1");
    }
  }

  /** Whether something has happened yet. */
  @FunctionalInterface
  interface Check {
    boolean holds() throws Exception;
  }

  /** Kills the serving process and returns once a new one serves. */
  @FunctionalInterface
  interface Restart {
    void run() throws Exception;
  }

  /**
   * A request/answer client ({@code ANSWERED}/{@code ERROR} lines) around two kills: {@code fast} on a connection idle
   * at the kill, {@code slow} in flight at the kill ({@code slowArrived} says when the server has it), then {@code
   * fast} once more. Closes {@code app}; returns the outcome of each step, in order.
   */
  static Map<String, Outcome> idleAndInFlight(AppProcess app, String fast, String slow, Check slowArrived,
      Restart killAndRestart) throws Exception {
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    try (app) {
      app.awaitLine(line -> line.equals("READY"), Duration.ofSeconds(60));
      ScriptedClient client = new ScriptedClient(app);
      Outcome first = new Outcome(client.run(fast, "ANSWERED", "ERROR"));
      if (!first.answered()) {
        throw new AssertionError("the first request failed: " + first.line() + "; client: " + app.lines());
      }

      killAndRestart.run(); // the connection is idle
      outcomes.put("after an idle kill", new Outcome(client.run(fast, "ANSWERED", "ERROR")));

      client.send(slow);
      Awaitility.await("the server has the request").atMost(Duration.ofSeconds(30)).until(slowArrived::holds);
      // A request in flight: the server has been working on it for a fifth of a second when it is killed (Armor
      // counts input the app had for 100 ms or more as taken: UnansweredInput; this poll alone may see it at once)
      Thread.sleep(200);
      killAndRestart.run();
      outcomes.put("in flight at the kill", new Outcome(client.awaitLine("ANSWERED", "ERROR")));

      outcomes.put("the request after", new Outcome(client.run(fast, "ANSWERED", "ERROR")));
      System.out.println("client: " + app.lines());
    }
    return outcomes;
  }

  /**
   * Prints the table rows (docs/TRANSPARENCY.md) and holds {@code with} to the rule against {@code without}: every
   * step answered or failed within 30 s (no hang: a restart, a retried request and the 3 s answer fit in it on a
   * loaded host), an error only of the class the client gets without Armor, and the
   * request after the kills answered.
   */
  static void assertNoWorse(String what, Map<String, Outcome> without, Map<String, Outcome> with) {
    for (String step : with.keySet()) {
      System.out.printf("| %s | %s | without Armor: %s, %d ms | with Armor: %s, %d ms |%n", what, step,
          without.get(step).kind(), without.get(step).millis(), with.get(step).kind(), with.get(step).millis());
    }
    for (String step : with.keySet()) {
      Outcome armored = with.get(step);
      assertThat(armored.millis()).as("%s, %s: an answer or an error, not a hang", what, step).isLessThan(30_000);
      if (!armored.answered()) {
        assertThat(armored.kind()).as("%s, %s: an error of the kind the client gets without Armor (%s)", what, step,
            without.get(step).line()).isEqualTo(without.get(step).kind());
      }
    }
    assertThat(with.get("the request after").answered()).as("%s: the client's next request is answered", what)
        .isTrue();
  }

  /** Whether the log of {@code armorId}'s process (all its instances) has said {@code line}. */
  static boolean serverSaid(ArmorTestCluster cluster, String armorId, String line) throws IOException {
    java.nio.file.Path log = cluster.home().resolve("logs").resolve(armorId + ".log");
    return java.nio.file.Files.exists(log) && java.nio.file.Files.readAllLines(log).contains(line);
  }

  /** Kills {@code armorId}'s process and returns once Armor has restarted it and it listens again. */
  static Restart killUnderArmor(ArmorTestCluster cluster, String armorId) {
    return () -> {
      long old = cluster.pidOf(armorId);
      ProcessHandle.of(old).orElseThrow().destroyForcibly();
      Awaitility.await("the server restarted by Armor").atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> cluster.listeningPid(armorId), pid -> pid != old);
    };
  }
}
