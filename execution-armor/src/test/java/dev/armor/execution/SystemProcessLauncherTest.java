package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The real launcher with real processes: exit statuses as the JDK reports them, output in the log file. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SystemProcessLauncherTest {

  private static final long WAIT_SECONDS = 10;

  @TempDir Path directory;

  private final ProcessLauncher launcher = ProcessLauncher.SYSTEM;

  @Test
  void launch_exitStatusArrivesThroughExit_andOutputIsAppendedToTheLogFile() throws Exception {
    Path logFile = directory.resolve("logs").resolve("exec-node-a-1.log"); // its directory does not exist yet
    List<String> command = List.of("sh", "-c", "echo \"hi from $GREETING in $(pwd)\"; echo oops >&2; exit 3");

    ProcessLauncher.Launched first = launcher.launch(command, Map.of("GREETING", "armor"), directory, logFile);
    int firstStatus = first.exit().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    ProcessLauncher.Launched second = launcher.launch(command, Map.of("GREETING", "again"), directory, logFile);
    int secondStatus = second.exit().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);

    assertThat(firstStatus).isEqualTo(3);
    assertThat(secondStatus).isEqualTo(3);
    assertThat(first.pid()).isPositive().isNotEqualTo(second.pid());
    assertThat(first.isAlive()).isFalse();
    String here = directory.toRealPath().toString();
    assertThat(Files.readAllLines(logFile))
        .containsExactly("hi from armor in " + here, "oops", "hi from again in " + here, "oops");
  }

  @Test
  void kill_ofARunningProcess_givesExitStatus137() throws Exception {
    ProcessLauncher.Launched sleeper =
        launcher.launch(List.of("sleep", "60"), Map.of(), null, directory.resolve("sleep.log"));
    assertThat(sleeper.isAlive()).isTrue();

    sleeper.kill();

    assertThat(sleeper.exit().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(137);
    assertThat(sleeper.isAlive()).isFalse();
    assertThat(ExecutionElement.describeExit(137)).contains("killed by SIGKILL");
  }

  @Test
  void stop_ofAProcessThatHonoursSigterm_givesExitStatus143() throws Exception {
    ProcessLauncher.Launched sleeper =
        launcher.launch(List.of("sleep", "60"), Map.of(), null, directory.resolve("sleep.log"));

    sleeper.stop(Duration.ofSeconds(5));

    assertThat(sleeper.exit().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(143);
  }

  @Test
  void stop_ofAProcessThatIgnoresSigterm_killsItAfterTheGrace() throws Exception {
    // exec keeps the ignored SIGTERM and leaves no child behind.
    ProcessLauncher.Launched stubborn =
        launcher.launch(
            List.of("sh", "-c", "trap '' TERM; echo ready; exec sleep 60"), Map.of(), null, directory.resolve("s.log"));
    awaitLine(directory.resolve("s.log"), "ready"); // the trap is set

    stubborn.stop(Duration.ofMillis(300));

    assertThat(stubborn.exit().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(137);
  }

  private static void awaitLine(Path file, String line) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(WAIT_SECONDS))
        .until(() -> Files.exists(file) && Files.readAllLines(file).contains(line));
  }
}
