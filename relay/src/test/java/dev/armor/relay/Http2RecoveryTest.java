package dev.armor.relay;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RecordingListener.Event;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 14, HTTP/2 (gRPC) under either policy: the server's crash ends the client's connection with a
 * {@code GOAWAY} naming the last stream the lost instance was handed, then an orderly end of stream, at once; a
 * server that died in the middle of a frame gets its client's stream ended after the cut frame, as the crash ends it.
 * Two relays in one JVM, the crash simulated as in {@code RelayTest}; the client and the server write HTTP/2 frames
 * by hand.
 */
@Timeout(value = 60, unit = SECONDS)
class Http2RecoveryTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7270);
  /** Long: what comes must come from the HTTP/2 rules, not from the watchdog. */
  private static final Duration STALL = Duration.ofSeconds(20);
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(US_ASCII);
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int SETTINGS = 0x4;
  private static final int GOAWAY = 0x7;

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

  private static byte[] frame(int type, int flags, int streamId, int payloadLength) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payloadLength);
    frame.put((byte) (payloadLength >>> 16)).put((byte) (payloadLength >>> 8)).put((byte) payloadLength);
    frame.put((byte) type).put((byte) flags).putInt(streamId);
    return frame.array();
  }

  /**
   * An HTTP/2 server as far as framing goes: reads the preface, sends its SETTINGS, then reads frames; at the first
   * HEADERS it counts {@code taken} down (after sending, if {@code cutFrame}, the first 12 bytes of a 100-byte DATA
   * frame) and waits to be killed.
   */
  private static TestServer.Behaviour server(CountDownLatch taken, boolean cutFrame) {
    return (socket, in, out) -> {
      DataInputStream frames = new DataInputStream(in);
      frames.readNBytes(PREFACE.length);
      out.write(frame(SETTINGS, 0, 0, 0));
      out.flush();
      while (true) {
        byte[] header = frames.readNBytes(9);
        if (header.length < 9) {
          return;
        }
        frames.readNBytes((header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff);
        if (header[3] == HEADERS && taken.getCount() > 0) {
          if (cutFrame) {
            out.write(Arrays.copyOf(frame(DATA, 0, 1, 100), 12));
            out.flush();
          }
          taken.countDown();
        }
      }
    };
  }

  private Socket start(CountDownLatch taken, boolean cutFrame) throws IOException {
    return start(taken, cutFrame, RecoveryPolicy.RECONNECT);
  }

  private Socket start(CountDownLatch taken, boolean cutFrame, RecoveryPolicy policy) throws IOException {
    pair = new RelayPair(c -> c.withRecoveryStallTimeout(STALL));
    pair.policy = policy;
    app = TestServer.start(server(taken, cutFrame));
    pair.expose(SERVICE, app);
    return pair.connect(SERVICE);
  }

  /** The client's preface, its SETTINGS and streams 1 and 3 (HEADERS of 6 bytes each). */
  private static void openTwoStreams(OutputStream out) throws IOException {
    out.write(PREFACE);
    out.write(frame(SETTINGS, 0, 0, 0));
    out.write(frame(HEADERS, 0x5, 1, 6));
    out.write(frame(HEADERS, 0x5, 3, 6));
    out.flush();
  }

  /**
   * Under replay too: a replayed HTTP/2 connection diverges (SETTINGS, PINGs and window updates differ between
   * instances), and the call the client made meanwhile failed where without Armor it would have been answered on a
   * new connection (gRPC, an idle kill: the campaign's GrpcNeverWorseTest).
   */
  @ParameterizedTest
  @EnumSource(RecoveryPolicy.class)
  void aCrashWithStreamsInFlight_endsTheClientsConnectionWithAGoAwayNamingTheLastStream_atOnce(RecoveryPolicy policy)
      throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    try (Socket client = start(taken, false, policy)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      openTwoStreams(client.getOutputStream());
      assertThat(taken.await(10, SECONDS)).isTrue();
      await().atMost(10, SECONDS).until(() -> received.bytes().length == 9); // the server's SETTINGS

      long crashedAt = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(10, SECONDS).until(() -> received.ended() || received.error() != null);
      assertThat((System.nanoTime() - crashedAt) / 1_000_000).as("at once, not after the stall timeout")
          .isLessThan(STALL.toMillis() / 2);
      assertThat(received.error()).as("a GOAWAY and an end of stream, not a reset").isNull();
      ByteBuffer goAway = ByteBuffer.wrap(received.bytes(), 9, received.bytes().length - 9);
      int length = (goAway.get() & 0xff) << 16 | (goAway.get() & 0xff) << 8 | goAway.get() & 0xff;
      assertThat(length).as("the rest is one frame").isEqualTo(goAway.remaining() - 6);
      assertThat(goAway.get()).as("type").isEqualTo((byte) GOAWAY);
      goAway.get(); // flags
      assertThat(goAway.getInt()).as("on the connection").isZero();
      assertThat(goAway.getInt()).as("the last stream the lost instance was handed").isEqualTo(3);
      assertThat(goAway.getInt()).as("NO_ERROR").isZero();
      Event closed = pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.reason()).contains("sent the client GOAWAY with last stream 3");
      assertThat(pair.clientSide(client).map(c -> c.state() == State.CLOSED).orElse(true)).isTrue();
    }
  }

  @Test
  void aServerCutInTheMiddleOfAFrame_endsTheClientsStreamAtOnce_asTheCrashDoes() throws Exception {
    CountDownLatch taken = new CountDownLatch(1);
    try (Socket client = start(taken, true)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      openTwoStreams(client.getOutputStream());
      assertThat(taken.await(10, SECONDS)).isTrue();
      await().atMost(10, SECONDS).until(() -> received.bytes().length == 9 + 12);

      long crashedAt = System.nanoTime();
      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(10, SECONDS).until(() -> received.error() != null || received.ended());
      assertThat((System.nanoTime() - crashedAt) / 1_000_000).as("at once").isLessThan(STALL.toMillis() / 2);
      // nothing can be inserted mid-frame: the stream ends after the cut frame, as the crash ended it
      assertThat(received.error()).as("an end of stream, not a reset").isNull();
      assertThat(received.ended()).isTrue();
      assertThat(received.bytes()).hasSize(9 + 12);
      Event closed = pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.reason()).contains("last HTTP/2 frame was cut short");
    }
  }
}
