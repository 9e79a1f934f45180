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

  private DaemonClient client(long timeoutMillis) {
    return new DaemonClient(new ShimConfig(socket(), "n1", "a1", timeoutMillis), 1234, lostSessions::incrementAndGet);
  }

  private Path socket() {
    return tempDir.resolve("shim.sock");
  }

  private static final class Handler implements ShimRequestHandler {
    final LinkedBlockingQueue<ShimSession> opened = new LinkedBlockingQueue<>();
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean stall;
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
