package dev.armor.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real Armor cluster started through {@code scripts/armor} with a private {@code ARMOR_HOME}: an FTM on
 * 127.0.0.1 and daemons n1 on 127.0.0.2 and n2 on 127.0.0.3 (adapted from the system tests'
 * {@code ArmorTestCluster}; the benchmark does not depend on that module). {@link #close()} runs
 * {@code armor stop}, which also stops the processes the daemons launched.
 */
final class ArmorCluster implements AutoCloseable {

  private final Path armor;
  private final Path home;
  private final String ftm;
  private final List<String> launcher;

  private ArmorCluster(Path armor, Path home, String ftm, List<String> launcher) {
    this.armor = armor;
    this.home = home;
    this.ftm = ftm;
    this.launcher = launcher;
  }

  /**
   * {@code detection}: failure-detection options given to the FTM and both daemons alike ({@code --stable-after
   * 3s}, say); {@code daemonOptions}: given to the daemons only ({@code --execution-armors process}, say);
   * {@code launcher}: a prefix for every {@code armor} command ({@code taskset -c 1}: the FTM and daemons, and so
   * everything they start, inherit the placement). The FTM and the daemons themselves start unplaced and are placed
   * once up, every thread ({@code taskset -a -p}): started on one CPU, a cluster took twice as long to come up (24
   * s against 44 in a smoke run), time the measurements do not need.
   */
  static ArmorCluster start(Path root, Path home, List<String> launcher, int ftmPort, int clusterPort,
      List<String> detection, List<String> daemonOptions) throws IOException {
    ArmorCluster cluster = new ArmorCluster(root.resolve("scripts/armor"), home, "127.0.0.1:" + ftmPort, launcher);
    try {
      List<String> ftmArgs = new ArrayList<>(List.of("ftm", "--host", "127.0.0.1", "--port", "" + ftmPort,
          "--cluster-port", "" + clusterPort, "--detach"));
      ftmArgs.addAll(detection);
      cluster.place(cluster.unplaced(Duration.ofSeconds(90), ftmArgs.toArray(String[]::new)));
      List<CompletableFuture<String>> daemons = new ArrayList<>();
      for (int i = 1; i <= 2; i++) {
        List<String> daemonArgs = new ArrayList<>(List.of("daemon", "--node", "n" + i, "--host",
            "127.0.0." + (i + 1), "--join", cluster.ftm, "--cluster-port", "" + clusterPort, "--detach"));
        daemonArgs.addAll(detection);
        daemonArgs.addAll(daemonOptions);
        String[] args = daemonArgs.toArray(String[]::new);
        daemons.add(CompletableFuture.supplyAsync(() -> {
          try {
            return cluster.unplaced(Duration.ofSeconds(120), args);
          } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
          }
        }));
      }
      for (CompletableFuture<String> daemon : daemons) {
        cluster.place(daemon.join());
      }
      return cluster;
    } catch (RuntimeException | IOException e) {
      cluster.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  String ftm() {
    return ftm;
  }

  /** Runs {@code armor ARGS}; returns its output, or throws with the output when it exits non-zero. */
  String ok(Duration timeout, String... args) throws IOException {
    List<String> command = new ArrayList<>(launcher);
    command.add(armor.toString());
    command.addAll(Arrays.asList(args));
    return run(command, timeout, "armor " + String.join(" ", args));
  }

  /** As {@link #ok}, without the launcher's placement. */
  private String unplaced(Duration timeout, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(armor.toString()));
    command.addAll(Arrays.asList(args));
    return run(command, timeout, "armor " + String.join(" ", args));
  }

  /**
   * Places the process a {@code --detach} start reported ("... started (pid N) ...") where the launcher places
   * processes, every thread of it; nothing without a {@code taskset -c CPUS} launcher.
   */
  private void place(String started) throws IOException {
    if (launcher.size() != 3 || !launcher.get(0).equals("taskset") || !launcher.get(1).equals("-c")) {
      return;
    }
    java.util.regex.Matcher pid = java.util.regex.Pattern.compile("\\(pid (\\d+)\\)").matcher(started);
    if (!pid.find()) {
      throw new IOException("no pid in the start's output, cannot place it: " + started);
    }
    List<String> taskset = List.of("taskset", "-a", "-p", "-c", launcher.get(2), pid.group(1));
    run(taskset, Duration.ofSeconds(10), String.join(" ", taskset));
  }

  /** Runs {@code command} ({@code what}, in errors); returns its output, or throws with it on a non-zero exit. */
  private String run(List<String> command, Duration timeout, String what) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("ARMOR_HOME", home.toString());
    builder.environment().put("ARMOR_FTM", ftm);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process process = builder.start();
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    });
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IOException(what + " timed out after " + timeout);
      }
      String out = output.get(10, TimeUnit.SECONDS);
      if (process.exitValue() != 0) {
        throw new IOException(what + " exited " + process.exitValue() + ":\n" + out);
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IOException(what + ": output unreadable", e);
    }
  }

  /** The JVM options that wrap an app to {@code node}'s daemon. */
  String agentOptions(String node) throws IOException {
    return ok(Duration.ofSeconds(30), "agent-opts", "--node", node, "--ftm", ftm).trim();
  }

  @Override
  public void close() {
    try {
      ok(Duration.ofSeconds(60), "stop");
    } catch (IOException e) {
      System.err.println("bench: armor stop failed: " + e.getMessage());
    }
  }
}
