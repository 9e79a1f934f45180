package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.armor.elements.ArmorActor;
import dev.armor.shim.control.ShimSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The liveness probe the relay asks when an app's connection ends: the kernel's word for a live app, the shim's
 * ping otherwise. Real child processes stand for the apps.
 */
class AppProbeTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final DaemonSettings SETTINGS = new DaemonSettings("n1", "127.0.0.2", 25520, "127.0.0.1:7700",
      Path.of("/home/armor"), Path.of("/opt/armor/shim.jar"), false, Duration.ofSeconds(5),
      DaemonSettings.DataPlane.DEFAULTS, DaemonSettings.Liveness.DEFAULTS, DaemonSettings.ExecutionArmors.DEFAULTS,
      dev.armor.ftm.ClusterNodeConfig.Detection.DEFAULTS, DaemonSettings.DEFAULT_CONTROL_PORT);

  private final ShimEndpoint endpoint = new ShimEndpoint(SETTINGS, testKit.<ArmorActor.Command>createTestProbe().ref(),
      testKit.system().scheduler(), null, Caffeine.newBuilder().build(), Map.of());
  private Process app;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stopApp() {
    if (app != null) {
      app.destroyForcibly();
    }
  }

  @Test
  void aRunningAppStartedWithThisDaemonsShim_isAliveWithoutAPing() throws Exception {
    app = start(true);
    CountingSession session = new CountingSession(app.pid());
    endpoint.sessionOpened(session);

    CompletableFuture<Boolean> answer = endpoint.probe(app.pid()).appAlive();

    assertThat(answer).isCompletedWithValue(true);
    assertThat(session.pings).hasValue(0);
  }

  @Test
  void aPidThisDaemonCannotTieToItsShim_isAskedByPing() throws Exception {
    app = start(false); // another namespace's shim would report a pid that means some other process here
    CountingSession session = new CountingSession(app.pid());
    endpoint.sessionOpened(session);

    CompletableFuture<Boolean> answer = endpoint.probe(app.pid()).appAlive();

    assertThat(session.pings).hasValue(1);
    assertThat(answer).isNotDone(); // waits for the shim's answer
  }

  @Test
  void anAppThatIsGone_isAskedByPing_andWithoutSessionIsDead() throws Exception {
    app = start(true);
    CountingSession session = new CountingSession(app.pid());
    endpoint.sessionOpened(session);
    app.destroyForcibly();
    assertThat(app.waitFor(10, TimeUnit.SECONDS)).isTrue();

    endpoint.probe(app.pid()).appAlive();
    assertThat(session.pings).hasValue(1);

    endpoint.sessionClosed(session);
    assertThat(endpoint.probe(app.pid()).appAlive()).isCompletedWithValue(false);
  }

  @Test
  void statFile_keptOpen_followsTheProcessUntilItIsReaped() throws Exception {
    app = start(false);
    AppProcess.StatFile stat = AppProcess.StatFile.open(app.pid());
    assertThat(stat).isNotNull();
    try {
      assertThat(stat.runningAndNotExiting()).isTrue();
      assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(app.pid())).start().waitFor()).isZero();
      assertThat(stat.runningAndNotExiting()).isTrue(); // re-read in place: stopped, still its own sockets

      app.destroyForcibly();
      assertThat(app.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(stat.runningAndNotExiting()).isFalse(); // reaped: the open file says so, whatever has its pid now
    } finally {
      stat.close();
    }
    assertThat(stat.runningAndNotExiting()).isFalse();
    assertThat(AppProcess.StatFile.open(app.pid())).isNull();
  }

  @Test
  void procStat_aliveOnlyWhenNeitherZombieNorExiting() {
    String running = "4242 (java (a) b) S 1 4242 4242 0 -1 4194560 3019 0 0 0 12 3 0 0 20 0 30 0 7 0 0";
    String exiting = "4242 (java (a) b) S 1 4242 4242 0 -1 4194564 3019 0 0 0 12 3 0 0 20 0 30 0 7 0 0";
    String zombie = "4242 (java) Z 1 4242 4242 0 -1 4194560 3019 0 0 0 12 3 0 0 20 0 30 0 7 0 0";
    String stopped = "4242 (java) T 1 4242 4242 0 -1 4194560 3019 0 0 0 12 3 0 0 20 0 30 0 7 0 0";

    assertThat(AppProcess.runningAndNotExiting(running)).isTrue();
    assertThat(AppProcess.runningAndNotExiting(stopped)).isTrue(); // stopped is not dead: its sockets are its own
    assertThat(AppProcess.runningAndNotExiting(exiting)).isFalse();
    assertThat(AppProcess.runningAndNotExiting(zombie)).isFalse();
    assertThat(AppProcess.runningAndNotExiting("garbage")).isFalse();
  }

  /** A stand-in app process: marked as launched with this daemon's shim, or not. */
  private static Process start(boolean shimmed) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("sleep", "60");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    if (shimmed) {
      builder.environment().put("JAVA_TOOL_OPTIONS", SETTINGS.agentOptions(""));
    }
    return builder.start();
  }

  /** A session whose pings are counted and never answered. */
  private record CountingSession(long pid, AtomicInteger pings) implements ShimSession {
    CountingSession(long pid) {
      this(pid, new AtomicInteger());
    }

    @Override
    public String armorId() {
      return "";
    }

    @Override
    public String node() {
      return "n1";
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public CompletableFuture<Boolean> ping(Duration timeout) {
      pings.incrementAndGet();
      return new CompletableFuture<>();
    }
  }
}
