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
import java.util.concurrent.atomic.AtomicBoolean;
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
  /** Longer than the relay's floor for a request in flight (500 ms; ReconnectGuard.IN_FLIGHT_FLOOR_NANOS). */
  private static final long IN_FLIGHT_MILLIS = 800;

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
    serve(behaviour, stall, RecoveryPolicy.RECONNECT);
  }

  private void serve(TestServer.Behaviour behaviour, Duration stall, RecoveryPolicy policy) throws IOException {
    pair = new RelayPair(c -> c.withRecoveryStallTimeout(stall));
    pair.policy = policy;
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

  /**
   * Answers the first line with "welcome", reads the second and never answers it (it is killed), counting both down
   * on {@code taken} as it reads them.
   */
  private static TestServer.Behaviour answersOneThenTakesOne(CountDownLatch taken) {
    return (socket, in, out) -> {
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
      reader.readLine();
      out.write("welcome\n".getBytes(UTF_8));
      out.flush();
      taken.countDown();
      reader.readLine();
      taken.countDown();
      in.transferTo(OutputStream.nullOutputStream());
    };
  }

  @Test
  void aRequestToANewInstanceThatWaitsForAHandshakeGetsTheClientTheEndOfItsStreamNotAHang() throws Exception {
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
      assertThat(received.error()).as("the end of the stream, as the crash ended it; not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat(waitedMillis).as("about the stall timeout, not forever").isBetween(STALL.toMillis() - 100, 5_000L);
      assertThat(received.text()).isEqualTo("welcome\nok select 1\n");
      assertThat(closed().reason()).contains("has not said a word").contains("the client's stream ended");
    }
  }

  @Test
  void aRequestTheLostInstanceTookWithItGetsTheClientTheEndOfItsStreamNotAHang() throws Exception {
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
      assertThat(received.error()).as("the end of the stream, as the crash ended it; not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat(received.text()).isEmpty();
      assertThat(closed().reason()).contains("has not said a word");
    }
  }

  @Test
  void aRequestInFlightAtTheCrashGetsTheClientTheEndOfItsStreamAtOnce() throws Exception {
    CountDownLatch taken = new CountDownLatch(2);
    serve(answersOneThenTakesOne(taken), Duration.ofSeconds(30)); // a reset after the watchdog would fail the test
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("HELLO\n".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("welcome\n"));
      client.getOutputStream().write("insert 1\n".getBytes(UTF_8));
      assertThat(taken.await(10, SECONDS)).isTrue();
      // The request has been in flight for longer than the relay's floor when the server dies.
      Thread.sleep(IN_FLIGHT_MILLIS);

      long crashNanos = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.crash();

      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      // the end of the stream, as the crash of a server that had read the request ends it (a FIN; a reset would be
      // another kind of error for the client)
      assertThat(received.error()).as("the end of the stream, not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat((System.nanoTime() - crashNanos) / 1_000_000).as("at the crash, not the stall timeout").isLessThan(5_000L);
      assertThat(received.text()).isEqualTo("welcome\n");
      assertThat(closed().reason()).contains("the client's stream ended at once");
      assertThat(closed().reason()).contains("was waiting for the answer").contains("the lost instance took it");
    }
  }

  /**
   * A request the server had read, sent a moment before its process died (well within the 500 ms rule): the daemon
   * next to the app saw it read and never answered, and the app's end of stream (a FIN: it had read everything) says
   * the kernel closed a socket with nothing unread. The client's stream ends at the crash, as without Armor.
   */
  @Test
  void aRequestTheDeadServerHadReadGetsTheClientTheEndOfItsStreamAtOnceWithinTheHalfSecond() throws Exception {
    CountDownLatch taken = new CountDownLatch(2);
    serve(answersOneThenTakesOne(taken), Duration.ofSeconds(30)); // an end after the watchdog would fail the test
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("HELLO\n".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("welcome\n"));
      client.getOutputStream().write("insert 1\n".getBytes(UTF_8));
      assertThat(taken.await(10, SECONDS)).isTrue();
      // read a moment before the exit, but longer than UnansweredInput's floor (100 ms), well within the 500 ms rule's
      Thread.sleep(250);

      long exitNanos = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.exit();

      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      assertThat(received.error()).as("the end of the stream, not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat((System.nanoTime() - exitNanos) / 1_000_000).as("at the crash, not the stall timeout")
          .isLessThan(5_000L);
      assertThat(received.text()).isEqualTo("welcome\n");
      assertThat(closed().reason()).contains("never answered").contains("the client's stream ended at once");
    }
  }

  /** The same exit, but the server had answered everything it read: nothing in flight, so the connection carries on. */
  @Test
  void aConnectionWhoseDeadServerHadAnsweredAllItReadIsReattached() throws Exception {
    serve(ECHO, STALL);
    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("one;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("one;"));

      pair.serverAppAlive.set(false);
      app.exit();
      await().atMost(10, SECONDS).until(() -> pair.clientSide(client).map(c -> c.state() != State.ATTACHED).orElse(true));
      app = TestServer.start(ECHO);
      pair.serverAppAlive.set(true);
      pair.restartedOn(SERVICE, app);
      await().atMost(10, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.ATTACHED);
      out.write("two;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("one;two;"));

      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
    }
  }

  @Test
  void aClientStillStreamingIntoAServerThatStoppedAnsweringIsReattached() throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    serve((socket, in, out) -> { // echoes lines until "STOP", then reads and answers nothing (hung)
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
      for (String line = reader.readLine(); line != null && !line.equals("STOP"); line = reader.readLine()) {
        out.write((line + "\n").getBytes(UTF_8));
        out.flush();
      }
      stopped.countDown();
      in.transferTo(OutputStream.nullOutputStream());
    }, Duration.ofSeconds(30));
    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("a\nSTOP\n".getBytes(UTF_8));
      assertThat(stopped.await(10, SECONDS)).isTrue();
      AtomicBoolean streaming = new AtomicBoolean(true);
      Thread writer = new Thread(() -> { // a line every 20 ms, answered or not, through the crash
        try {
          for (int i = 0; streaming.get(); i++) {
            out.write(("line " + i + "\n").getBytes(UTF_8));
            Thread.sleep(20);
          }
        } catch (IOException | InterruptedException e) {
          // the assertions below say what went wrong
        }
      });
      writer.start();
      try {
        Thread.sleep(IN_FLIGHT_MILLIS); // unanswered long
        crashAndRestart(ECHO, client);
        await().atMost(10, SECONDS).until(() -> received.text().contains("line "));
      } finally {
        streaming.set(false);
        writer.join();
      }
      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
      assertThat(pair.clientSide(client).orElseThrow().state()).isEqualTo(State.ATTACHED);
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

  /**
   * First bytes that open a session no other instance can continue, by the client (TLS, HTTP/2) or the server, under
   * each policy: a replay of such a session diverges at the new instance's first answer, and the client would learn
   * of the loss only with its next request (an idle SSH session's next command failed where without Armor the client
   * had replaced the session it found closed: the campaign's SshNeverWorseTest).
   */
  static Stream<Arguments> sessionsBoundToTheirInstance() {
    Stream<Arguments> sessions = Stream.of(
        Arguments.of("a TLS session", new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}, false),
        Arguments.of("an HTTP/2 connection (gRPC)", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(UTF_8), false),
        Arguments.of("an SSH session", "SSH-2.0-TestServer\r\n".getBytes(UTF_8), true));
    return sessions.flatMap(session -> Stream.of(RecoveryPolicy.values()).map(policy -> Arguments.of(
        session.get()[0], session.get()[1], session.get()[2], policy)));
  }

  @ParameterizedTest(name = "{0}, {3}")
  @MethodSource("sessionsBoundToTheirInstance")
  void aSessionNoOtherInstanceCanContinueIsEndedAtTheCrash(String session, byte[] first, boolean serverFirst,
      RecoveryPolicy policy) throws Exception {
    // the reset must not wait for the stall timeout: a 30 s one would fail the test
    serve(serverFirst ? (socket, in, out) -> {
      out.write(first);
      in.transferTo(out);
    } : ECHO, Duration.ofSeconds(30), policy);
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
      assertThat(received.error()).as("the end of the stream, as the crash ends it, not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat((System.nanoTime() - crashNanos) / 1_000_000).as("at once").isLessThan(5_000L);
      assertThat(closed().reason()).contains("it carries " + session + " that no other instance can continue");
    }
  }
}
