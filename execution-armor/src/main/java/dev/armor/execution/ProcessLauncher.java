package dev.armor.execution;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Starts application processes; a seam so the element's logic is tested without real processes. */
public interface ProcessLauncher {

  /** A started process. */
  interface Launched {
    long pid();

    /** Completes with the exit status when the process ends (128+n when killed by signal n). */
    CompletionStage<Integer> exit();

    boolean isAlive();

    /** Asks the process to stop (SIGTERM), then kills it (SIGKILL) if it is still there after the grace. */
    void stop(java.time.Duration grace);

    /** Kills it at once (SIGKILL), with its descendants. */
    void kill();

    /**
     * Whether {@code pid} is this process or one of its descendants (a command run through a shell wrapper has the
     * protected JVM as a child): whose heartbeats count for it.
     */
    default boolean runs(long pid) {
      return pid == pid();
    }
  }

  Launched launch(List<String> command, Map<String, String> environment, Path workingDirectory, Path logFile)
      throws IOException;

  /** The real one: {@link ProcessBuilder}, output appended to the log file. */
  ProcessLauncher SYSTEM = new SystemProcessLauncher();
}
