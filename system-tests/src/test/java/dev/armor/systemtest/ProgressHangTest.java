package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.systemtest.apps.StuckServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Hangs found from progress (issue 16), with real processes: a server under {@code armor run --progress-timeout}
 * whose workers deadlock while its shim beats on ({@link StuckServer}) is found hung, killed and restarted; an idle
 * connection and a client that reads slowly are never taken for a hang. The clients are plain sockets of this JVM
 * reaching the service address through the node's daemon. An FTM and one daemon on 127.0.24.x.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProgressHangTest {

  private static final String SUBNET = "127.0.24";
  private static final String SERVICE_HOST = SUBNET + ".2"; // node n1
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("progress", SUBNET, 7860, 25860, 1, List.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aServerWhoseWorkersDeadlocked_isFoundHungWithinTheProgressTimeout_restarted_andItsClientsCarryOnOrSeeAnEnd()
      throws Exception {
    int port = 7861;
    String armor = cluster.launchServer("n1", List.of("--progress-timeout", "3s"),
        appCommand(ArmorTestCluster.JDK17, StuckServer.class.getName(), "" + port));
    long pid = cluster.pidOf(armor);

    try (Line idle = new Line(port); Line victim = new Line(port)) {
      assertThat(idle.ask("ping")).isEqualTo("PONG pid=" + pid);

      // The victim's first request deadlocks the workers. (Not a second request sent within the kernel's clock tick
      // of the answer to a first: the kernel's times cannot order the two, and the watch then waits for more work
      // to pile up: docs/FAULTS.md, "Hangs found from progress".)
      long sentAt = System.nanoTime();
      victim.send("stuck");
      // Never a hang: the request in flight ends as the kill of the server ends it without Armor.
      assertThat(victim.read()).as("the stuck request's connection ends").isEqualTo(-1);
      long endedMillis = (System.nanoTime() - sentAt) / 1_000_000;

      ProcessEvent hung = await("the HUNG event").atMost(Duration.ofSeconds(30)).until(
          () -> events(armor, ProcessEventKind.HUNG).stream().filter(e -> e.getPid() == pid).findFirst(),
          java.util.Optional::isPresent).orElseThrow();
      System.out.printf("progress: deadlock at 0 ms, client's stream ended at +%d ms (progress timeout 3000 ms): %s%n",
          endedMillis, hung.getDetail());
      assertThat(hung.getDetail()).startsWith("no progress: owed work waited (")
          .contains("read and not answered for ").contains("progress timeout 3000 ms");
      assertThat(endedMillis).as("found within the timeout and a sample or two").isBetween(3_000L, 10_000L);

      // The idle connection, re-attached to the new instance, carries on without an error.
      long newPid = cluster.pidOf(armor);
      assertThat(newPid).isNotEqualTo(pid);
      assertThat(idle.ask("ping")).isEqualTo("PONG pid=" + newPid);
    }
  }

  @Test
  void anIdleConnectionAndASlowReader_areNeverTakenForAHang_whileTheWatchRuns() throws Exception {
    int port = 7862;
    String armor = cluster.launchServer("n1", List.of("--progress-timeout", "2s"),
        appCommand(ArmorTestCluster.JDK17, StuckServer.class.getName(), "" + port));
    long pid = cluster.pidOf(armor);

    try (Line idle = new Line(port); Line slow = new Line(port)) {
      assertThat(idle.ask("ping")).isEqualTo("PONG pid=" + pid);
      slow.send("big 16000000"); // far more than every buffer on the way holds
      long readUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos(); // four progress timeouts
      long read = 0;
      byte[] chunk = new byte[4096];
      while (System.nanoTime() < readUntil) {
        int n = slow.in.read(chunk);
        assertThat(n).as("the slow reader's answer goes on").isPositive();
        read += n;
        TimeUnit.MILLISECONDS.sleep(100); // the slow reader's pace, not a wait for a condition
      }
      assertThat(read).as("it read slowly, far from the whole answer").isLessThan(16_000_000L);

      assertThat(events(armor, ProcessEventKind.HUNG)).as("no hang reported").isEmpty();
      assertThat(cluster.pidOf(armor)).as("the server was never restarted").isEqualTo(pid);
      assertThat(idle.ask("ping")).as("the idle connection still answered by the same instance")
          .isEqualTo("PONG pid=" + pid);

      // The watch was running all along: the same server, deadlocked now, is found hung.
      try (Line victim = new Line(port)) {
        victim.send("stuck");
        await("the deadlock found").atMost(Duration.ofSeconds(30))
            .until(() -> !events(armor, ProcessEventKind.HUNG).isEmpty());
      }
    }
  }

  private static List<ProcessEvent> events(String armor, ProcessEventKind kind) {
    return cluster.status().getEventsList().stream()
        .filter(e -> e.getArmorId().equals(armor) && e.getKind() == kind).toList();
  }

  /** A line-protocol connection to the service on n1. */
  private static final class Line implements AutoCloseable {
    private final Socket socket = new Socket();
    private final InputStream in;
    private final BufferedReader lines;
    private final OutputStream out;

    Line(int port) throws IOException {
      socket.connect(new InetSocketAddress(SERVICE_HOST, port), 10_000);
      socket.setSoTimeout(30_000); // a hang fails the test instead of stalling it
      in = socket.getInputStream();
      lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      out = socket.getOutputStream();
    }

    void send(String line) throws IOException {
      out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    String ask(String line) throws IOException {
      send(line);
      return lines.readLine();
    }

    int read() throws IOException {
      return in.read();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
