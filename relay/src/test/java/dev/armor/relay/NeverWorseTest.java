package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RecordingListener.Event;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14, under the {@code reconnect} policy: a client sees either nothing of a server crash, or the error it would
 * have had without Armor (its connection reset), promptly; never a hang. Two relays in one JVM; crashes simulated as
 * in {@code RelayTest} (sockets reset, the probe says dead).
 */
@Timeout(value = 60, unit = SECONDS)
class NeverWorseTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7250);
  /** The stall timeout these tests run with: short, so a reset that comes must come soon. */
  private static final Duration STALL = Duration.ofMillis(600);

  private RelayPair pair;
  private TestServer app;

  @AfterEach
  void tearDown() throws IOException {
    if (app != null) {
      app.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  /** Both relays with {@code stall} as the recovery stall timeout, and {@code behaviour} serving the service. */
  private void serve(TestServer.Behaviour behaviour, Duration stall) throws IOException {
    pair = new RelayPair(c -> c.withRecoveryStallTimeout(stall));
    app = TestServer.start(behaviour);
    pair.expose(SERVICE, app);
  }

  private void crashAndRestart(TestServer.Behaviour restarted, Socket client) throws IOException {
    pair.serverAppAlive.set(false);
    app.crash();
    await().atMost(10, SECONDS).until(() -> pair.clientSide(client).map(c -> c.state() != State.ATTACHED).orElse(true));
    app = TestServer.start(restarted);
    pair.serverAppAlive.set(true);
    pair.restartedOn(SERVICE, app);
  }

  private Event closed() {
    return pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
  }

  private static final TestServer.Behaviour ECHO = (socket, in, out) -> in.transferTo(out);

  /** Answers "ok LINE" to each line, but only after the line "HELLO" (a session handshake); silent before it. */
  private static final TestServer.Behaviour SESSION =
      (socket, in, out) -> {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
        boolean greeted = false;
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          if (line.equals("HELLO")) {
            greeted = true;
            out.write("welcome\n".getBytes(UTF_8));
          } else if (greeted) {
            out.write(("ok " + line + "\n").getBytes(UTF_8));
          } // else: waits for the handshake, as a database server does
          out.flush();
        }
      };

  @Test
  void aRequestToANewInstanceThatWaitsForAHandshakeGetsTheClientAResetNotAHang() throws Exception {
    serve(SESSION, STALL);
    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("HELLO\nselect 1\n".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("welcome\nok select 1\n"));

      crashAndRestart(SESSION, client); // idle at the crash: re-attached
      await().atMost(10, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.ATTACHED);
      long sentNanos = System.nanoTime();
      out.write("select 2\n".getBytes(UTF_8)); // the new instance waits for HELLO: it never answers

      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      long waitedMillis = (System.nanoTime() - sentNanos) / 1_000_000;
      assertThat(received.error()).as("reset, as a crash would have").hasMessageContaining("reset");
      assertThat(waitedMillis).as("about the stall timeout, not forever").isBetween(STALL.toMillis() - 100, 5_000L);
      assertThat(received.text()).isEqualTo("welcome\nok select 1\n");
      assertThat(closed().reason()).contains("has not said a word").contains("client reset");
    }
  }

  @Test
  void aRequestTheLostInstanceTookWithItGetsTheClientAResetNotAHang() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    serve((socket, in, out) -> { // reads the request, then never answers (it is killed)
      in.read(new byte[64]);
      taken.countDown();
      in.transferTo(OutputStream.nullOutputStream());
    }, STALL);
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("GET /slow\n".getBytes(UTF_8));
      assertThat(taken.await(10, SECONDS)).isTrue();

      crashAndRestart(ECHO, client); // the new one would answer a request, but never got it

      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      assertThat(received.error()).hasMessageContaining("reset");
      assertThat(received.text()).isEmpty();
      assertThat(closed().reason()).contains("has not said a word");
    }
  }

  @Test
  void anIdleConnectionOfAStatelessServerIsStillReattachedWithoutAnError() throws Exception {
    serve(ECHO, STALL);
    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("one;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("one;"));

      crashAndRestart(ECHO, client);
      await().atMost(10, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.ATTACHED);
      out.write("two;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("one;two;"));
      Thread.sleep(2 * STALL.toMillis()); // past the watchdog: it was disarmed by the answer

      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
      assertThat(pair.clientSide(client).orElseThrow().state()).isEqualTo(State.ATTACHED);
    }
  }

  /** First bytes that open a session no other instance can continue, by the client (TLS, HTTP/2) or the server. */
  static Stream<Arguments> sessionsBoundToTheirInstance() {
    return Stream.of(
        Arguments.of("a TLS session", new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}, false),
        Arguments.of("an HTTP/2 connection (gRPC)", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(UTF_8), false),
        Arguments.of("an SSH session", "SSH-2.0-TestServer\r\n".getBytes(UTF_8), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sessionsBoundToTheirInstance")
  void aSessionNoOtherInstanceCanContinueIsResetAtTheCrash(String session, byte[] first, boolean serverFirst)
      throws Exception {
    // the reset must not wait for the stall timeout: a 30 s one would fail the test
    serve(serverFirst ? (socket, in, out) -> {
      out.write(first);
      in.transferTo(out);
    } : ECHO, Duration.ofSeconds(30));
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      if (!serverFirst) {
        client.getOutputStream().write(first); // echoed
      }
      await().atMost(10, SECONDS).until(() -> received.bytes().length == first.length);

      long crashNanos = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.crash();

      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      assertThat(received.error()).hasMessageContaining("reset");
      assertThat((System.nanoTime() - crashNanos) / 1_000_000).as("at once").isLessThan(5_000L);
      assertThat(closed().reason()).contains("it carries " + session + " that no other instance can continue");
    }
  }
}
