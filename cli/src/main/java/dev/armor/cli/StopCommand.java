package dev.armor.cli;

import dev.armor.elements.control.ArmorStopping;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.control.StopArmorRequest;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import io.grpc.StatusRuntimeException;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "stop", description = {
    "armor stop ARMOR: retire one protected process: its Execution ARMOR stops it (SIGTERM, then SIGKILL) and does not "
        + "restart it; its services are unregistered and their clients' connections reset. Returns once it is gone.",
    "armor stop: stop the FTMs and daemons armor started here ($ARMOR_HOME); daemons stop their protected processes."})
final class StopCommand implements Callable<Integer> {
  private static final long STOP_TIMEOUT_SECONDS = 15;

  @Parameters(arity = "0..1", paramLabel = "ARMOR", description = "An Execution ARMOR id (armor status lists them).")
  String armorId;

  @Mixin FtmAddress ftm;

  @Override
  public Integer call() throws Exception {
    if (armorId != null) {
      return stopArmor();
    }
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

  /** Retires one Execution ARMOR's process through the FTM and waits (up to 30 s) for its STOPPED event. */
  private int stopArmor() throws IOException, InterruptedException {
    try (FtmClient client = new FtmClient(ftm.target())) {
      ArmorStopping stopping;
      try {
        stopping = client.stub(30).stopArmor(StopArmorRequest.newBuilder().setArmorId(armorId).build());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException("cannot stop " + armorId + ": " + client.explain(e));
      }
      System.out.println("stopping Execution ARMOR " + stopping.getArmorId() + " on node " + stopping.getNode());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        try {
          ClusterStatus status = client.stub(10).status(StatusRequest.getDefaultInstance());
          for (ProcessEvent event : status.getEventsList()) {
            if (event.getArmorId().equals(armorId) && event.getKind() == ProcessEventKind.STOPPED) {
              System.out.println("stopped " + armorId + ": " + event.getDetail());
              return 0;
            }
          }
        } catch (StatusRuntimeException e) {
          // the FTM may be moving: ask again
        }
        Thread.sleep(200);
      }
      throw new ArmorCliException("asked " + armorId + " to stop, but it did not report STOPPED within 30 s "
          + "(armor status shows it)");
    }
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
      if (startedAfter(process.get(), Path.of(entry[2]))) {
        System.out.println(entry[0] + ": pid " + entry[1] + " is another process now (it started after the pid file was"
            + " written); not signalled, stale pid file removed");
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

  /**
   * Whether {@code process} started after {@code pidFile} was written: the pid was reused by a process that is not the
   * one the file names (an Armor process writes its pid file once it is up, so it started before). A second of slack
   * for the clocks' granularity.
   */
  static boolean startedAfter(ProcessHandle process, Path pidFile) throws IOException {
    Optional<java.time.Instant> started = process.info().startInstant();
    java.time.Instant written = Files.getLastModifiedTime(pidFile).toInstant();
    return started.isPresent() && started.get().isAfter(written.plusSeconds(1));
  }

  /** A process asked to stop, and its pid file entry (name, pid, file). */
  private record Stopping(String[] entry, ProcessHandle process) {}
}
