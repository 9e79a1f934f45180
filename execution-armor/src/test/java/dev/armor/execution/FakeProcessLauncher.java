package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A launcher for tests: it records each launch and hands out {@link FakeProcess}es that run until the test makes
 * them exit. It may be told to throw {@link IOException} instead, as when the command does not exist.
 */
final class FakeProcessLauncher implements ProcessLauncher {

  /** What the element asked to launch, and the process it got. */
  record Launch(
      List<String> command, Map<String, String> environment, Path workingDirectory, Path logFile, FakeProcess process) {}

  private final BlockingQueue<Launch> launches = new LinkedBlockingQueue<>();
  private final AtomicLong nextPid = new AtomicLong(4_100);
  private volatile IOException failure;

  @Override
  public Launched launch(List<String> command, Map<String, String> environment, Path workingDirectory, Path logFile)
      throws IOException {
    IOException thrown = failure;
    if (thrown != null) {
      throw thrown;
    }
    FakeProcess process = new FakeProcess(nextPid.getAndIncrement());
    launches.add(new Launch(List.copyOf(command), Map.copyOf(environment), workingDirectory, logFile, process));
    return process;
  }

  /** From now on, every launch throws {@code e}; {@code null} lets launches succeed again. */
  void failWith(IOException e) {
    failure = e;
  }

  /** The next launch, which must come within a few seconds. */
  Launch nextLaunch() {
    try {
      Launch launch = launches.poll(3, TimeUnit.SECONDS);
      assertThat(launch).as("a process launch").isNotNull();
      return launch;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Asserts that no launch happened that the test has not taken yet. */
  void expectNoLaunch() {
    assertThat(launches).as("launches not expected by the test").isEmpty();
  }

  /** A process that runs until the test makes it exit; it records the stops it was asked for. */
  static final class FakeProcess implements Launched {
    private final long pid;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final List<Duration> stops = new CopyOnWriteArrayList<>();
    private final AtomicLong kills = new AtomicLong();

    FakeProcess(long pid) {
      this.pid = pid;
    }

    /** Makes the process end with {@code status}, as the JDK would report it (128+n when killed by signal n). */
    void exitWith(int status) {
      assertThat(exit.complete(status)).as("pid %d exits only once", pid).isTrue();
    }

    /** The graces of the stops the element asked for, in order. */
    List<Duration> stops() {
      return List.copyOf(stops);
    }

    @Override
    public long pid() {
      return pid;
    }

    @Override
    public CompletionStage<Integer> exit() {
      return exit;
    }

    @Override
    public boolean isAlive() {
      return !exit.isDone();
    }

    /** Only records the request: the test decides when (and with which status) the process exits. */
    @Override
    public void stop(Duration grace) {
      stops.add(grace);
    }

    /** How many times the element killed it (SIGKILL). */
    long kills() {
      return kills.get();
    }

    /** A kill ends the process at once, as SIGKILL does (even a stopped process). */
    @Override
    public void kill() {
      kills.incrementAndGet();
      exit.complete(137);
    }
  }
}
