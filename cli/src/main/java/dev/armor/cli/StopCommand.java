package dev.armor.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

@Command(name = "stop", description = "Stop the FTMs and daemons armor started here ($ARMOR_HOME); daemons stop their protected processes.")
final class StopCommand implements Callable<Integer> {

  @Override
  public Integer call() throws Exception {
    ArmorHome home = ArmorHome.resolve();
    List<String[]> entries = new ArrayList<>(home.pidFiles());
    // Daemons first, so the FTM sees their processes stop; then the FTMs.
    entries.sort(Comparator.comparing((String[] e) -> e[0].startsWith("ftm") ? 1 : 0));
    int stopped = 0;
    for (String[] entry : entries) {
      Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(entry[1]));
      if (process.isEmpty() || !process.get().isAlive()) {
        java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(entry[2]));
        continue;
      }
      process.get().destroy();
      try {
        process.get().onExit().get(15, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        System.out.println(entry[0] + " (pid " + entry[1] + ") did not stop within 15 s; killing it");
        process.get().destroyForcibly();
      }
      java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(entry[2]));
      System.out.println("stopped " + entry[0] + " (pid " + entry[1] + ")");
      stopped++;
    }
    if (stopped == 0) {
      System.out.println("nothing to stop under " + home.root());
    }
    return 0;
  }
}
