package dev.armor.relay;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RecordingListener.Event;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 14, HTTP/1.1 under the {@code reconnect} policy: the relay knows where requests and responses begin and end,
 * so a server crash with a request in flight is hidden where HTTP allows it (an idempotent request is sent again to
 * the new instance, the client sees only its answer), answered {@code 503} where it does not (a POST: never executed
 * twice), and reset at once where an answer was cut (never the stall timeout's wait). Two relays in one JVM, the
 * crash simulated as in {@code RelayTest}; the client writes raw HTTP on a plain socket.
 */
@Timeout(value = 60, unit = SECONDS)
class HttpRecoveryTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7260);
  /** Long: a reset that comes must come from the HTTP rules, not from the watchdog. */
  private static final Duration STALL = Duration.ofSeconds(20);

  private RelayPair pair;
  private TestServer app;
  /** The requests each instance read, as "instance METHOD PATH". */
  private final List<String> executed = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() throws IOException {
    if (app != null) {
      app.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  /**
   * A keep-alive HTTP/1.1 server: answers each request with "NAME METHOD PATH" as its body; it answers the request
   * whose path is {@code hang} only once {@code release} counts down (never, if it is killed first), and the one
   * whose path is {@code /cut} with the first half of its answer, then nothing.
   */
  private TestServer.Behaviour server(String name, CountDownLatch taken) {
    return (socket, in, out) -> {
      for (String[] request = readRequest(in); request != null; request = readRequest(in)) {
        executed.add(name + " " + request[0] + " " + request[1]);
        String body = name + " " + request[0] + " " + request[1];
        String response = "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        if (request[1].equals("/hang") && name.equals("first")) {
          taken.countDown();
          in.transferTo(OutputStream.nullOutputStream()); // killed before it answers
          return;
        }
        if (request[1].equals("/cut") && name.equals("first")) {
          out.write(response.substring(0, response.length() - 4).getBytes(ISO_8859_1));
          out.flush();
          taken.countDown();
          in.transferTo(OutputStream.nullOutputStream());
          return;
        }
        out.write(response.getBytes(ISO_8859_1));
        out.flush();
      }
    };
  }

  /** Method and path of the next request (its head and Content-Length body read), or null at end of stream. */
  private static String[] readRequest(InputStream in) throws IOException {
    String line = readLine(in);
    if (line == null) {
      return null;
    }
    int length = 0;
    for (String header = readLine(in); header != null && !header.isEmpty(); header = readLine(in)) {
      if (header.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(header.substring(15).trim());
      }
    }
    in.readNBytes(length);
    String[] words = line.split(" ");
    return new String[] {words[0], words[1]};
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      if (b == '\n') {
        String text = line.toString(ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
    }
    return null;
  }

  private Socket start(CountDownLatch taken) throws IOException {
    pair = new RelayPair(c -> c.withRecoveryStallTimeout(STALL));
    app = TestServer.start(server("first", taken));
    pair.expose(SERVICE, app);
    return pair.connect(SERVICE);
  }

  private void crashAndRestart(Socket client) throws IOException {
    pair.serverAppAlive.set(false);
    app.crash();
    await().atMost(10, SECONDS).until(() -> pair.clientSide(client).map(c -> c.state() != State.ATTACHED).orElse(true));
    app = TestServer.start(server("second", new CountDownLatch(1)));
    pair.serverAppAlive.set(true);
    pair.restartedOn(SERVICE, app);
  }

  private static String answer(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  @Test
  void anIdempotentRequestInFlight_isAnsweredByTheNewInstance_onTheSameConnection() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    try (Socket client = start(taken)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
      await().atMost(10, SECONDS).until(() -> received.text().equals(answer("first GET /a")));
      out.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(taken.await(10, SECONDS)).isTrue();

      long crashedAt = System.nanoTime();
      crashAndRestart(client);
      await().atMost(10, SECONDS).until(() -> received.text().equals(answer("first GET /a") + answer("second GET /hang")));
      assertThat((System.nanoTime() - crashedAt) / 1_000_000).as("no stall timeout waited").isLessThan(STALL.toMillis());
      out.write("GET /b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
      await().atMost(10, SECONDS).until(() -> received.text().endsWith(answer("second GET /b")));
      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
      assertThat(executed).containsExactly("first GET /a", "first GET /hang", "second GET /hang", "second GET /b");
      assertThat(pair.clientEvents.has("held", SERVICE, "will send its 1 unanswered HTTP request(s)")).isTrue();
    }
  }

  /** {@code armor run --protocol generic}: no element reads HTTP, so the generic rules alone apply to a GET in flight. */
  @Test
  void underTheGenericProtocol_anIdempotentRequestInFlight_isNotSentAgain() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    pair = new RelayPair(c -> c.withRecoveryStallTimeout(Duration.ofMillis(600))); // the watchdog ends it soon
    pair.protocol = AppProtocol.GENERIC;
    app = TestServer.start(server("first", taken));
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
      await().atMost(10, SECONDS).until(() -> received.text().equals(answer("first GET /a")));
      out.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(taken.await(10, SECONDS)).isTrue();

      crashAndRestart(client);
      // re-attached as any connection of an unread protocol, and ended by the watchdog: the new instance never got it
      await().atMost(10, SECONDS).until(() -> received.ended() || received.error() != null);
      assertThat(received.text()).isEqualTo(answer("first GET /a"));
      assertThat(executed).containsExactly("first GET /a", "first GET /hang");
      assertThat(pair.clientEvents.has("held", SERVICE, "HTTP request(s)")).isFalse();
    }
  }

  @Test
  void aPostInFlight_isAnswered503_andNeverReachesTheNewInstance() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    try (Socket client = start(taken)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("POST /hang HTTP/1.1\r\nContent-Length: 5\r\n\r\norder".getBytes(ISO_8859_1));
      assertThat(taken.await(10, SECONDS)).isTrue();

      crashAndRestart(client);
      await().atMost(10, SECONDS).until(() -> received.ended() || received.error() != null);
      assertThat(received.error()).as("an answer and an end of stream, not a reset").isNull();
      assertThat(received.text()).startsWith("HTTP/1.1 503 Service Unavailable\r\n").contains("Connection: close\r\n")
          .contains("POST /hang");
      assertThat(executed).containsExactly("first POST /hang");
      Event closed = pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.reason()).contains("answered 503 Service Unavailable");
    }
  }

  @Test
  void anAnswerCutByTheCrash_resetsTheClientAtOnce() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    try (Socket client = start(taken)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      out.write("GET /cut HTTP/1.1\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(taken.await(10, SECONDS)).isTrue();
      await().atMost(10, SECONDS).until(() -> received.text().startsWith("HTTP/1.1 200 OK"));

      long crashedAt = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(10, SECONDS).until(() -> received.error() != null);
      assertThat((System.nanoTime() - crashedAt) / 1_000_000).as("at once, not after the stall timeout")
          .isLessThan(STALL.toMillis() / 2);
      assertThat(received.error()).hasMessageContaining("reset");
      assertThat(executed).containsExactly("first GET /cut");
    }
  }
}
