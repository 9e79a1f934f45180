package dev.armor.shim.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.armor.shim.control.ShimControlServer;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Via;
import dev.armor.shim.control.ShimRequestHandler;
import dev.armor.shim.control.ShimSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shim's client against the real server, in one JVM. */
class DaemonClientTest {
  private static final InetSocketAddress SERVICE = new InetSocketAddress("10.0.0.1", 5432);

  @TempDir Path tempDir;
  private final Handler handler = new Handler();
  private final AtomicInteger lostSessions = new AtomicInteger();
  private ShimControlServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    handler.release.countDown();
  }

  @Test
  void ask_opensTheSessionFirst_thenAnswersOnPooledConnections() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(5000);

    assertThat(client.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
    assertThat(client.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));

    ShimSession session = handler.opened.poll(10, TimeUnit.SECONDS);
    assertThat(session.pid()).isEqualTo(1234);
    assertThat(handler.requestConnections()).isEqualTo(1);
  }

  @Test
  void theSessionThread_answersPings_andReconnectsToARestartedDaemon() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(5000);
    client.ensureSession();
    client.startSessionThread();
    ShimSession first = handler.opened.poll(10, TimeUnit.SECONDS);
    assertThat(first.ping(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS)).isTrue();

    server.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> lostSessions.get() == 1);
    server = ShimControlServer.start(socket(), handler);

    ShimSession second = handler.opened.poll(10, TimeUnit.SECONDS);
    assertThat(second).isNotNull().isNotSameAs(first);
    assertThat(second.ping(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(client.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
  }

  @Test
  void announcedPeers_areReadWithoutAsking_onceEach_andForgottenWhenTheDaemonGoes() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(5000);
    client.openPeerFeed();
    ShimSession session = handler.opened.poll(10, TimeUnit.SECONDS);
    InetSocketAddress first = new InetSocketAddress("10.0.0.9", 41000);
    InetSocketAddress second = new InetSocketAddress("10.0.0.9", 41001);

    // written before the connects they announce, as the relay does: here already by the time they are asked for
    session.announcePeer(50000, first);
    session.announcePeer(50001, SERVICE);
    session.announcePeer(50001, second); // the port reused: the latest notice is the connection's
    assertThat(client.announcedPeer(50000)).isEqualTo(first);
    assertThat(client.announcedPeer(50000)).isNull(); // taken
    assertThat(client.announcedPeer(50001)).isEqualTo(second);
    assertThat(client.announcedPeer(50002)).isNull(); // never announced: the accept asks
    assertThat(handler.requestConnections()).isZero();

    session.announcePeer(50003, first);
    server.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> client.announcedPeer(50004) == null && !client.peerFeedOpen());
    assertThat(client.announcedPeer(50003)).isNull(); // the feed is gone: an old notice is not trusted
  }

  @Test
  void ask_givesUpAfterTheTimeout_whenTheDaemonDoesNotAnswer() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(200);
    handler.stall = true;

    long start = System.nanoTime();
    assertThatThrownBy(() -> client.ask(new RouteQuery(SERVICE))).isInstanceOf(SocketTimeoutException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void ask_withoutDaemon_failsAtOnce() {
    DaemonClient client = client(5000);

    long start = System.nanoTime();
    assertThatThrownBy(() -> client.ask(new RouteQuery(SERVICE))).isInstanceOf(IOException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void ask_keepsTheThreadsInterruptFlag_andStillWaitsForTheAnswer() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(5000);
    Thread.currentThread().interrupt();
    try {
      assertThat(client.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void ask_survivesAnInterruptWhileWaiting_andKeepsTheFlag() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = client(5000);
    client.ask(new RouteQuery(SERVICE));
    handler.stall = true;
    Thread asker = Thread.currentThread();
    Thread interrupter = new Thread(() -> {
      await().atMost(Duration.ofSeconds(10)).until(() -> handler.stalled.get() > 0);
      asker.interrupt();
      await().atMost(Duration.ofSeconds(10)).until(() -> handler.stalled.get() > 1);
      handler.stall = false;
      handler.release.countDown();
    });
    interrupter.start();
    try {
      assertThat(client.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
      interrupter.join();
    }
  }

  // ---- heartbeats and fencing -------------------------------------------------------------------------

  @Test
  void aProtectedApp_beatsEveryHeartbeat_andTheDaemonAcksThem() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = fencingClient("a1", 50, 2000);
    client.ensureSession();
    client.startSessionThread();

    await().atMost(Duration.ofSeconds(10)).until(() -> handler.beats.size() >= 5);
    assertThat(handler.beats).startsWith(1L, 2L, 3L, 4L, 5L);
    assertThat(fenced).as("acked beats keep the lease").isEmpty();
  }

  @Test
  void aFencingApp_stopsItself_whenTheDaemonDies() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = fencingClient("a1", 50, 2000);
    client.ensureSession();
    client.startSessionThread();
    await().atMost(Duration.ofSeconds(10)).until(() -> !handler.beats.isEmpty());

    server.close();

    String why = fenced.poll(10, TimeUnit.SECONDS);
    assertThat(why).startsWith("its control session ended");
    assertThat(Fence.message(new ShimConfig(socket(), "n1", "a1", 1), why))
        .startsWith("armor shim: daemon of node n1 is gone (its control session ended")
        .endsWith("); stopping this protected process so it cannot act as an orphan");
  }

  @Test
  void aFencingApp_stopsItself_whenTheDaemonLeavesItsHeartbeatsUnansweredForTheLease() throws Exception {
    handler.stallBeats = true; // the daemon's session thread answers the first beat, then stops
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = fencingClient("a1", 50, 400);
    client.ensureSession();
    client.startSessionThread();

    String why = fenced.poll(10, TimeUnit.SECONDS);
    assertThat(why).matches("it has not answered heartbeats for \\d+ ms");
    assertThat(Long.parseLong(why.replaceAll("\\D", ""))).isGreaterThanOrEqualTo(400);
  }

  @Test
  void aWrappedApp_neitherBeatsNorFences_andReconnects() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = fencingClient("", 50, 400);
    client.ensureSession();
    client.startSessionThread();
    handler.opened.poll(10, TimeUnit.SECONDS);

    server.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> lostSessions.get() == 1);
    server = ShimControlServer.start(socket(), handler);

    assertThat(handler.opened.poll(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(handler.beats).isEmpty();
    assertThat(fenced).isEmpty();
  }

  @Test
  void aFencingApp_thatNeverReachesItsDaemon_stopsItselfAfterTheLease() throws Exception {
    DaemonClient client = fencingClient("a1", 50, 400);
    client.startSessionThread();

    assertThat(fenced.poll(10, TimeUnit.SECONDS)).matches("could not reach it for \\d+ ms");
  }

  @Test
  void atExit_theSessionThreadLeavesItsWaitAndEnds_withoutClosingTheSessionOrFencing() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    // A wrapped app does not beat: its session thread waits with no deadline, and only the exit's wake-up ends it.
    DaemonClient wrapped = fencingClient("", 50, 400);
    wrapped.ensureSession();
    wrapped.startSessionThread();
    ShimSession session = handler.opened.poll(10, TimeUnit.SECONDS);
    // Answered by the session thread: it is in its serving loop, and goes back to waiting.
    assertThat(session.ping(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS)).isTrue();

    wrapped.endForExit(10_000);

    assertThat(wrapped.sessionThread().isAlive()).isFalse();
    assertThat(session.isOpen()).as("the session ends with the process, not before").isTrue();
    assertThat(lostSessions).hasValue(0);
    assertThat(fenced).isEmpty();
  }

  @Test
  void atExit_aProtectedAppsSessionThreadEnds_withoutFencing() throws Exception {
    server = ShimControlServer.start(socket(), handler);
    DaemonClient client = fencingClient("a1", 50, 2000);
    client.ensureSession();
    client.startSessionThread();
    await().atMost(Duration.ofSeconds(10)).until(() -> handler.beats.size() >= 2);

    client.endForExit(10_000);

    assertThat(client.sessionThread().isAlive()).isFalse();
    assertThat(fenced).isEmpty();
    assertThat(lostSessions).hasValue(0);
  }

  private final LinkedBlockingQueue<String> fenced = new LinkedBlockingQueue<>();

  private DaemonClient fencingClient(String armorId, long heartbeatMillis, long leaseMillis) {
    ShimConfig config = new ShimConfig(socket(), "n1", armorId, 5000, Optional.empty(), heartbeatMillis, leaseMillis, true);
    return new DaemonClient(config, 1234, lostSessions::incrementAndGet, fenced::add);
  }

  /** A protected app's client without fencing: the daemon may restart under it. */
  private DaemonClient client(long timeoutMillis) {
    ShimConfig config = new ShimConfig(socket(), "n1", "a1", timeoutMillis, Optional.empty(), 500, 5000, false);
    return new DaemonClient(config, 1234, lostSessions::incrementAndGet, fenced::add);
  }

  private Path socket() {
    return tempDir.resolve("shim.sock");
  }

  private static final class Handler implements ShimRequestHandler {
    final LinkedBlockingQueue<ShimSession> opened = new LinkedBlockingQueue<>();
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean stall;
    volatile boolean stallBeats;
    final java.util.List<Long> beats = new java.util.concurrent.CopyOnWriteArrayList<>();
    final AtomicInteger stalled = new AtomicInteger();
    private final java.util.Set<String> requestThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();

    int requestConnections() {
      return requestThreads.size();
    }

    @Override
    public void sessionOpened(ShimSession session) {
      opened.add(session);
    }

    @Override
    public void sessionClosed(ShimSession session) {}

    @Override
    public void heartbeat(ShimSession session, long beat) {
      beats.add(beat);
      if (stallBeats) {
        try {
          release.await(); // blocks the session's thread: later beats are not read, so not acked
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public Route route(ShimSession session, InetSocketAddress destination) {
      requestThreads.add(Thread.currentThread().getName() + Thread.currentThread().getId());
      if (stall) {
        stalled.incrementAndGet();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return new Route.Via(40001);
    }

    @Override
    public Verdict bind(ShimSession session, InetSocketAddress requested) {
      return new Verdict.Ok();
    }

    @Override
    public Verdict listening(ShimSession session, InetSocketAddress requested, int actualPort) {
      return new Verdict.Ok();
    }

    @Override
    public void unlistened(ShimSession session, InetSocketAddress requested) {}

    @Override
    public Optional<InetSocketAddress> peerOf(ShimSession session, int daemonPort) {
      return Optional.empty();
    }
  }
}
