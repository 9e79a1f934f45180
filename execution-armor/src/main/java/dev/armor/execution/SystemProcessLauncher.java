package dev.armor.execution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** Launches with {@link ProcessBuilder}; the JDK's reaper thread completes {@link Process#onExit()} at the exit. */
final class SystemProcessLauncher implements ProcessLauncher {

  @Override
  public Launched launch(List<String> command, Map<String, String> environment, Path workingDirectory, Path logFile)
      throws IOException {
    Files.createDirectories(logFile.getParent());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    if (workingDirectory != null) {
      builder.directory(workingDirectory.toFile());
    }
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    return new Launched() {
      @Override
      public long pid() {
        return process.pid();
      }

      @Override
      public CompletionStage<Integer> exit() {
        return process.onExit().thenApply(Process::exitValue);
      }

      @Override
      public boolean isAlive() {
        return process.isAlive();
      }

      @Override
      public void stop(Duration grace) {
        // A command run through a shell wrapper has the app as a child: it must not outlive its ARMOR.
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        CompletableFuture.runAsync(
            () -> {
              try {
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                  process.descendants().forEach(ProcessHandle::destroyForcibly);
                  process.destroyForcibly();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
              }
            });
      }

      @Override
      public boolean runs(long pid) {
        return pid == process.pid() || process.descendants().anyMatch(child -> child.pid() == pid);
      }

      @Override
      public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    };
  }
}
