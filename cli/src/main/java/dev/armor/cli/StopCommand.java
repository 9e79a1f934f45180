package dev.armor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;

@Command(name = "stop", description = "Stop the FTMs and daemons armor started here ($ARMOR_HOME); daemons stop their protected processes.")
final class StopCommand implements Callable<Integer> {
  private static final long STOP_TIMEOUT_SECONDS = 15;

  @Override
  public Integer call() throws Exception {
    ArmorHome home = ArmorHome.resolve();
    List<String[]> daemons = new ArrayList<>();
    List<String[]> ftms = new ArrayList<>();
    for (String[] entry : home.pidFiles()) {
      (entry[0].startsWith("ftm") ? ftms : daemons).add(entry);
    }
    // Daemons first, so the FTM sees their processes stop; then the FTMs. Within each group all at once: each
    // process's orderly shutdown (its protected processes, leaving the cluster) takes about 3 s, mostly waiting.
    int stopped = stopTogether(daemons) + stopTogether(ftms);
    if (stopped == 0) {
      System.out.println("nothing to stop under " + home.root());
    }
    return 0;
  }

  /** Asks every process of {@code entries} to stop (SIGTERM), then waits for each, killing one that outlasts 15 s. */
  private static int stopTogether(List<String[]> entries) throws IOException, InterruptedException {
    List<Stopping> asked = new ArrayList<>();
    for (String[] entry : entries) {
      Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(entry[1]));
      if (process.isEmpty() || !process.get().isAlive()) {
        Files.deleteIfExists(Path.of(entry[2]));
        continue;
      }
      process.get().destroy();
      asked.add(new Stopping(entry, process.get()));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_TIMEOUT_SECONDS);
    for (Stopping stopping : asked) {
      String[] entry = stopping.entry;
      ProcessHandle process = stopping.process;
      try {
        process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        System.out.println(entry[0] + " (pid " + entry[1] + ") did not stop within " + STOP_TIMEOUT_SECONDS
            + " s; killing it");
        process.destroyForcibly();
      }
      Files.deleteIfExists(Path.of(entry[2]));
      System.out.println("stopped " + entry[0] + " (pid " + entry[1] + ")");
    }
    return asked.size();
  }

  /** A process asked to stop, and its pid file entry (name, pid, file). */
  private record Stopping(String[] entry, ProcessHandle process) {}
}
