package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.RelayConfig.ReplayOverflow;
import dev.armor.relay.testkit.ClientApp;
import dev.armor.relay.testkit.RecordingListener.Event;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REPLAY recovery policy (issue 4), two relays in one JVM: a restarted deterministic server is replayed the
 * client's whole stream and its duplicate output is dropped, so the client sees every byte once, in order, with no
 * gap; a non-deterministic one gets the client reset, never a splice; a connection past its replay-log bound falls
 * back as configured. Crashes are simulated as in {@code RelayTest}: sockets reset, and the probe says dead.
 */
@Timeout(value = 180, unit = SECONDS)
class ReplayTest {

  private static final Logger log = LoggerFactory.getLogger(ReplayTest.class);
  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7200);
  private static final int KILLS = 22;
  private static final int RECORD = 12;

  private RelayPair pair;
  private TestServer app;
  private final List<TestServer> instances = new ArrayList<>();

  @AfterEach
  void tearDown() throws IOException {
    for (TestServer instance : instances) {
      instance.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  private RelayPair replayPair(UnaryOperator<RelayConfig> customize) {
    pair = new RelayPair(customize);
    pair.policy = RecoveryPolicy.REPLAY;
    return pair;
  }

  private TestServer start(TestServer.Behaviour behaviour) throws IOException {
    TestServer instance = TestServer.start(behaviour);
    instances.add(instance);
    return instance;
  }

  /** Kills the server app (sockets reset, probe says dead), restarts it, and waits for re-attachment {@code k}. */
  private void crashAndRestart(TestServer.Behaviour behaviour, int clientPort, int k) throws IOException {
    long held = heldEvents();
    crash();
    awaitHeldAfter(held);
    restart(behaviour, clientPort, k);
  }

  private void crash() throws IOException {
    pair.serverAppAlive.set(false);
    app.crash();
  }

  /** Events, not polled states: a hold can be shorter than a poll interval. */
  private long heldEvents() {
    return pair.clientEvents.events.stream().filter(e -> e.kind().equals("held")).count();
  }

  private void awaitHeldAfter(long heldBefore) {
    await().atMost(30, SECONDS).until(() -> heldEvents() > heldBefore);
  }

  private void restart(TestServer.Behaviour behaviour, int clientPort, int k) throws IOException {
    app = start(behaviour);
    pair.serverAppAlive.set(true);
    pair.restartedOn(SERVICE, app);
    await()
        .atMost(30, SECONDS)
        .until(
            () ->
                pair.clientSide(clientPort)
                    .map(c -> c.state() == State.ATTACHED && c.reattachments() >= k)
                    .orElse(true));
  }

  // ---------------------------------------------------------------- a deterministic stream

  /** Record i: i as 8 bytes, then the CRC-32 of those 8 bytes. */
  private static void putRecord(byte[] into, int at, long i) {
    ByteBuffer.wrap(into, at, 8).putLong(i);
    CRC32 crc = new CRC32();
    crc.update(into, at, 8);
    ByteBuffer.wrap(into, at + 8, 4).putInt((int) crc.getValue());
  }

  /** Writes records 0, 1, 2, ... as fast as the socket takes them, until killed. */
  private static final TestServer.Behaviour STREAM =
      (socket, in, out) -> {
        int batch = 512;
        byte[] buf = new byte[batch * RECORD];
        for (long i = 0; ; i += batch) {
          for (int r = 0; r < batch; r++) {
            putRecord(buf, r * RECORD, i + r);
          }
          out.write(buf);
        }
      };

  /** Reads records on a thread of its own, checking each is the next one; throttled until told otherwise. */
  private static final class RecordReader extends Thread {
    private final ClientApp client;
    volatile boolean throttle = true;
    volatile long records;
    volatile String error;

    RecordReader(ClientApp client) {
      super("test-record-reader");
      this.client = client;
      setDaemon(true);
    }

    @Override
    public void run() {
      byte[] buf = new byte[4096];
      byte[] record = new byte[RECORD];
      int partial = 0;
      long next = 0;
      try {
        for (int n = client.read(buf, 0, buf.length); n >= 0; n = client.read(buf, 0, buf.length)) {
          for (int i = 0; i < n; i++) {
            record[partial++] = buf[i];
            if (partial == RECORD) {
              partial = 0;
              long index = ByteBuffer.wrap(record, 0, 8).getLong();
              CRC32 crc = new CRC32();
              crc.update(record, 0, 8);
              if (index != next || ByteBuffer.wrap(record, 8, 4).getInt() != (int) crc.getValue()) {
                error = "expected record " + next + ", got " + index + " (crc ok: "
                    + (ByteBuffer.wrap(record, 8, 4).getInt() == (int) crc.getValue()) + ")";
                return;
              }
              records = ++next;
            }
          }
          if (throttle) {
            Thread.sleep(1);
          }
        }
        error = "end of stream after " + next + " records";
      } catch (IOException | InterruptedException e) {
        error = "read failed after " + next + " records: " + e;
      }
    }
  }

  @ParameterizedTest(name = "nio client: {0}")
  @ValueSource(booleans = {false, true})
  void shouldDeliverEveryRecordOfAStreamExactlyOnceAcrossRepeatedCrashes(boolean nio) throws Exception {
    replayPair(UnaryOperator.identity());
    app = start(STREAM);
    pair.expose(SERVICE, app);
    long seed = System.nanoTime();
    log.info("random kill moments: seed {}", seed);
    Random random = new Random(seed);

    try (ClientApp client = ClientApp.connect(pair.client.openServiceListener(SERVICE), nio)) {
      RecordReader reader = new RecordReader(client);
      reader.start();
      await().atMost(30, SECONDS).until(() -> reader.records > 1000 || reader.error != null);
      for (int k = 1; k <= KILLS && reader.error == null; k++) {
        Thread.sleep(random.nextInt(50));
        crashAndRestart(STREAM, client.localPort(), k);
      }
      reader.throttle = false;
      long target = reader.records + 100_000;
      await().atMost(60, SECONDS).until(() -> reader.records >= target || reader.error != null);
      assertThat(reader.error).as("seed %d", seed).isNull();

      ConnectionInfo info = pair.clientSide(client.localPort()).orElseThrow();
      assertThat(info.reattachments()).isEqualTo(KILLS);
      assertThat(info.recovery()).isEqualTo(RecoveryPolicy.REPLAY);
      assertThat(info.divergedAtOffset()).isEqualTo(-1);
      assertThat(info.bytesToClient()).isGreaterThanOrEqualTo(target * RECORD);
    }
  }

  /**
   * Records as {@link #STREAM}, but flow-controlled by the client's "ACK n" lines: it writes while fewer than 2000
   * records are unacknowledged. Its output depends on the client's acknowledgements having arrived, so a replay must
   * hand them over in step with the output that preceded them, or stall.
   */
  private static final TestServer.Behaviour WINDOWED =
      (socket, in, out) -> {
        AtomicLong acked = new AtomicLong();
        Thread acks = new Thread(() -> {
          try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, UTF_8));
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
              synchronized (acked) {
                acked.set(Long.parseLong(line.substring(4)));
                acked.notifyAll();
              }
            }
          } catch (IOException | RuntimeException e) {
            // killed
          }
        }, "test-windowed-acks");
        acks.setDaemon(true);
        acks.start();
        java.io.BufferedOutputStream buffered = new java.io.BufferedOutputStream(out, 8192);
        byte[] record = new byte[RECORD];
        try {
          for (long i = 0; ; i++) {
            if (i >= acked.get() + 2000) {
              buffered.flush();
              synchronized (acked) {
                while (i >= acked.get() + 2000) {
                  acked.wait();
                }
              }
            }
            putRecord(record, 0, i);
            buffered.write(record);
            if (i % 64 == 0) {
              buffered.flush();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };

  @Test
  void shouldDeliverAFlowControlledStreamExactlyOnceAcrossRepeatedCrashes() throws Exception {
    replayPair(UnaryOperator.identity());
    app = start(WINDOWED);
    pair.expose(SERVICE, app);
    long seed = System.nanoTime();
    log.info("random kill moments: seed {}", seed);
    Random random = new Random(seed);
    try (Socket client = pair.connect(SERVICE)) {
      AtomicLong records = new AtomicLong();
      AtomicReference<String> error = new AtomicReference<>();
      Thread reader = new Thread(() -> {
        try {
          java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(client.getInputStream()));
          OutputStream out = client.getOutputStream();
          byte[] record = new byte[RECORD];
          byte[] expected = new byte[RECORD];
          for (long next = 0; ; next++) {
            in.readFully(record);
            putRecord(expected, 0, next);
            if (!java.util.Arrays.equals(record, expected)) {
              error.set("record " + next + " is wrong");
              return;
            }
            records.set(next + 1);
            if ((next + 1) % 100 == 0) {
              out.write(("ACK " + (next + 1) + "\n").getBytes(UTF_8));
              Thread.sleep(1);
            }
          }
        } catch (IOException | InterruptedException e) {
          error.compareAndSet(null, "read failed after " + records.get() + " records: " + e);
        }
      }, "test-windowed-reader");
      reader.setDaemon(true);
      reader.start();
      await().atMost(30, SECONDS).until(() -> records.get() > 5000 || error.get() != null);
      for (int k = 1; k <= 12 && error.get() == null; k++) {
        long before = records.get();
        Thread.sleep(random.nextInt(100));
        crashAndRestart(WINDOWED, client.getLocalPort(), k);
        await("progress after restart " + k + " (seed " + seed + ")").atMost(30, SECONDS)
            .until(() -> records.get() > before + 3000 || error.get() != null);
      }
      assertThat(error.get()).as("seed %d", seed).isNull();
      assertThat(pair.clientSide(client).orElseThrow().divergedAtOffset()).isEqualTo(-1);
    }
  }

  // ---------------------------------------------------------------- a deterministic request/response server

  private static String sha256(String line) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Answers each request line with its SHA-256, but only once the next request (or the end of input) has arrived:
   * whenever it is killed, it has read a request it has not answered.
   */
  private static final TestServer.Behaviour RPC =
      (socket, in, out) -> {
        BufferedReader requests = new BufferedReader(new InputStreamReader(in, UTF_8));
        Writer answers = new BufferedWriter(new OutputStreamWriter(out, UTF_8));
        String pending = null;
        for (String line = requests.readLine(); line != null; line = requests.readLine()) {
          if (pending != null) {
            answers.write(sha256(pending) + "\n");
            answers.flush();
          }
          pending = line;
        }
        if (pending != null) {
          answers.write(sha256(pending) + "\n");
        }
        answers.flush();
        socket.shutdownOutput();
      };

  @ParameterizedTest(name = "nio client: {0}")
  @ValueSource(booleans = {false, true})
  void shouldAnswerEveryRequestExactlyOnceInOrderAcrossRepeatedCrashes(boolean nio) throws Exception {
    replayPair(UnaryOperator.identity());
    app = start(RPC);
    pair.expose(SERVICE, app);
    long seed = System.nanoTime();
    log.info("random kill moments: seed {}", seed);
    Random random = new Random(seed);

    try (ClientApp client = ClientApp.connect(pair.client.openServiceListener(SERVICE), nio)) {
      AtomicLong sent = new AtomicLong();
      AtomicLong answered = new AtomicLong();
      AtomicReference<String> error = new AtomicReference<>();
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    if (sent.get() - answered.get() >= 32) {
                      Thread.sleep(1);
                      continue;
                    }
                    client.write(("req-" + sent.get() + "\n").getBytes(UTF_8));
                    sent.incrementAndGet();
                  }
                  client.shutdownOutput();
                } catch (IOException | InterruptedException e) {
                  error.compareAndSet(null, "write failed: " + e);
                }
              },
              "test-rpc-writer");
      Thread reader =
          new Thread(
              () -> {
                StringBuilder line = new StringBuilder();
                byte[] buf = new byte[4096];
                try {
                  for (int n = client.read(buf, 0, buf.length); n >= 0; n = client.read(buf, 0, buf.length)) {
                    for (int i = 0; i < n; i++) {
                      if (buf[i] != '\n') {
                        line.append((char) buf[i]);
                        continue;
                      }
                      String expected = sha256("req-" + answered.get());
                      if (!line.toString().equals(expected)) {
                        error.compareAndSet(null, "answer " + answered.get() + " is " + line + ", expected " + expected);
                        return;
                      }
                      line.setLength(0);
                      answered.incrementAndGet();
                    }
                  }
                } catch (IOException e) {
                  error.compareAndSet(null, "read failed after " + answered.get() + " answers: " + e);
                }
              },
              "test-rpc-reader");
      writer.setDaemon(true);
      reader.setDaemon(true);
      writer.start();
      reader.start();
      await().atMost(30, SECONDS).until(() -> answered.get() > 100 || error.get() != null);
      for (int k = 1; k <= KILLS && error.get() == null; k++) {
        Thread.sleep(random.nextInt(50));
        crashAndRestart(RPC, client.localPort(), k);
      }
      stop.set(true);
      writer.join(60_000);
      reader.join(60_000);
      assertThat(error.get()).as("seed %d", seed).isNull();
      assertThat(answered.get()).isEqualTo(sent.get()).isGreaterThan(100);
      // Every kill was recovered by re-attaching the same connection, at least once per kill. One CI
      // run on the relayed path saw 23 re-attachments for 22 kills (every answer still exactly once, in order): an
      // extra loss it has not been explained yet; its reasons are printed to find it.
      List<Event> attached = pair.clientEvents.events.stream()
          .filter(e -> e.kind().equals("attached")).toList();
      if (attached.size() > KILLS + 1) {
        pair.clientEvents.events.stream().filter(e -> e.kind().equals("held"))
            .forEach(e -> System.out.println("seed " + seed + ": held: " + e.reason()));
      }
      assertThat(attached).hasSizeGreaterThanOrEqualTo(KILLS + 1);
    }
  }

  // ---------------------------------------------------------------- divergence, bounds, basics

  /** Greets with "id=" and the instance's number (19 digits), then echoes. */
  private static TestServer.Behaviour greeter(long id) {
    return (socket, in, out) -> {
      out.write(String.format("id=%019d\n", id).getBytes(UTF_8));
      in.transferTo(out);
    };
  }

  @Test
  void shouldEndTheClientsStreamAsTheCrashWouldRatherThanSpliceWhenTheRestartedServerDiverges_andSayAtWhichByte() throws Exception {
    replayPair(UnaryOperator.identity());
    app = start(greeter(1));
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write('x');
      await().atMost(10, SECONDS).until(() -> received.text().length() == 24);
      String before = received.text();
      int port = client.getLocalPort();

      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(10, SECONDS).until(() -> pair.clientSide(port).orElseThrow().state() == State.HELD);
      app = start(greeter(2)); // greets with another id: same length, one other byte
      pair.serverAppAlive.set(true);
      pair.restartedOn(SERVICE, app);

      await().atMost(10, SECONDS).until(received::ended);
      assertThat(received.error()).as("its end of stream, as the crash would end it without Armor, not a reset").isNull();
      assertThat(received.text()).isEqualTo(before); // nothing of the new history reached the client
      Event closed =
          pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.reason()).contains("not deterministic").contains("byte 21 of the 24 already delivered differs");
      assertThat(closed.info().divergedAtOffset()).isEqualTo(21); // "id=" and 18 zeros alike, then 1 against 2
      assertThat(closed.info().reattachments()).isEqualTo(1);
    }
  }

  /**
   * Answers each request line with the instance's name and how many requests it has executed: a server whose output
   * differs from its first answer (a timestamp, a session id), with a count of what it executed.
   */
  private static TestServer.Behaviour counting(String name, AtomicLong executed) {
    return (socket, in, out) -> {
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        out.write((name + " did " + line + " as request " + executed.incrementAndGet() + "\n").getBytes(UTF_8));
        out.flush();
      }
    };
  }

  @Test
  void shouldHandTheNewInstanceNoRequestPastTheFirstAnswerThatDiffers() throws Exception {
    replayPair(UnaryOperator.identity());
    AtomicLong executedBefore = new AtomicLong();
    app = start(counting("first", executedBefore));
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      BufferedReader answers = new BufferedReader(new InputStreamReader(client.getInputStream(), UTF_8));
      Writer requests = new OutputStreamWriter(client.getOutputStream(), UTF_8);
      for (int i = 1; i <= 10; i++) { // one at a time: ten turns of the conversation
        requests.write("insert " + i + "\n");
        requests.flush();
        assertThat(answers.readLine()).isEqualTo("first did insert " + i + " as request " + i);
      }
      int port = client.getLocalPort();
      long held = heldEvents();
      crash();
      awaitHeldAfter(held);
      AtomicLong executedAfter = new AtomicLong();
      app = start(counting("second", executedAfter));
      pair.serverAppAlive.set(true);
      pair.restartedOn(SERVICE, app);

      await().atMost(10, SECONDS).until(() -> pair.clientSide(port).map(c -> c.state() == State.CLOSED).orElse(true));
      // Its first answer already differs: it is given none of the nine requests after it (before, all ten went at
      // once, and a database executed every insert of the session again before anyone could tell).
      assertThat(executedAfter.get()).isEqualTo(1);
      Event closed =
          pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.info().divergedAtOffset()).isZero(); // "second" against "first"
    }
  }

  @Test
  void shouldCallItADivergenceWhenTheNewInstanceStopsShortOfWhatTheClientHas() throws Exception {
    replayPair(c -> c.withRecoveryStallTimeout(Duration.ofMillis(500)));
    app = start(echo());
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("hello".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("hello"));
      int port = client.getLocalPort();
      long held = heldEvents();
      crash();
      awaitHeldAfter(held);
      app = start((socket, in, out) -> in.transferTo(OutputStream.nullOutputStream())); // reads, never answers
      pair.serverAppAlive.set(true);
      long restartedNanos = System.nanoTime();
      pair.restartedOn(SERVICE, app);

      await().atMost(10, SECONDS).until(received::ended);
      assertThat(received.error()).isNull();
      long resetAfterMillis = (System.nanoTime() - restartedNanos) / 1_000_000;
      Event closed =
          pair.clientEvents.events.stream().filter(e -> e.kind().equals("closed")).findFirst().orElseThrow();
      assertThat(closed.reason()).contains("produced 0 of the 5 bytes already delivered, then nothing for");
      assertThat(closed.info().divergedAtOffset()).isZero();
      assertThat(resetAfterMillis).as("a bounded wait, not a hang").isLessThan(5_000);
      assertThat(received.text()).isEqualTo("hello");
    }
  }

  @Test
  void shouldReplayAnEchoSoTheClientSeesEachByteOnce() throws Exception {
    replayPair(UnaryOperator.identity());
    app = start(echo());
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      StringBuilder expected = new StringBuilder();
      for (int restart = 1; restart <= 3; restart++) {
        String before = "before-" + restart + ";";
        client.getOutputStream().write(before.getBytes(UTF_8));
        expected.append(before);
        await().atMost(10, SECONDS).until(() -> received.text().contentEquals(expected));
        crashAndRestart(echo(), client.getLocalPort(), restart);
        String after = "after-" + restart + ";";
        client.getOutputStream().write(after.getBytes(UTF_8));
        expected.append(after);
        await().atMost(10, SECONDS).until(() -> received.text().contentEquals(expected));
      }
      assertThat(received.error()).isNull();
      long sent = expected.length();
      await()
          .atMost(10, SECONDS)
          .until(() -> pair.clientSide(client).orElseThrow().peerAcknowledged() == sent);
      ConnectionInfo info = pair.clientSide(client).orElseThrow();
      assertThat(info.recovery()).isEqualTo(RecoveryPolicy.REPLAY);
      assertThat(info.replayLogBytes()).isEqualTo(sent);
      assertThat(info.bytesToClient()).isEqualTo(sent);
    }
  }

  @Test
  void shouldFallBackToReconnectPastTheReplayLogBound() throws Exception {
    replayPair(c -> c.withReplayLogBytes(64 * 1024));
    app = start(echo());
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      byte[] big = new byte[100 * 1024];
      client.getOutputStream().write(big);
      assertThat(client.getInputStream().readNBytes(big.length)).hasSize(big.length);
      assertThat(pair.clientSide(client).orElseThrow().recovery()).isEqualTo(RecoveryPolicy.RECONNECT);

      crashAndRestart(echo(), client.getLocalPort(), 1);
      client.getOutputStream().write("after".getBytes(UTF_8)); // a fresh connection: only new bytes come back
      assertThat(new String(client.getInputStream().readNBytes(5), UTF_8)).isEqualTo("after");
      // a fresh attach starts a new replay epoch
      assertThat(pair.clientSide(client).orElseThrow().recovery()).isEqualTo(RecoveryPolicy.REPLAY);
    }
  }

  @Test
  void shouldResetAConnectionPastTheReplayLogBoundWhenItsServerIsLostIfSoConfigured() throws Exception {
    replayPair(c -> c.withReplayLogBytes(64 * 1024).withReplayOverflow(ReplayOverflow.RESET));
    app = start(echo());
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      byte[] big = new byte[100 * 1024];
      client.getOutputStream().write(big);
      assertThat(client.getInputStream().readNBytes(big.length)).hasSize(big.length); // still works meanwhile

      StreamRecorder received = new StreamRecorder(client.getInputStream());
      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(10, SECONDS).until(() -> received.error() != null);
      assertThat(pair.clientEvents.has("closed", SERVICE, "replay-overflow is reset")).isTrue();
    }
  }

  @Test
  void shouldStartReplayingAConnectionOnceItsServiceSwitchesToReplay() throws Exception {
    pair = new RelayPair(); // RECONNECT at first
    app = start(echo());
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("a;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("a;"));
      assertThat(pair.clientSide(client).orElseThrow().recovery()).isEqualTo(RecoveryPolicy.RECONNECT);

      pair.policy = RecoveryPolicy.REPLAY;
      crashAndRestart(echo(), client.getLocalPort(), 1); // fresh: nothing was logged under reconnect
      client.getOutputStream().write("b;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("a;b;"));
      assertThat(pair.clientSide(client).orElseThrow().recovery()).isEqualTo(RecoveryPolicy.REPLAY);

      crashAndRestart(echo(), client.getLocalPort(), 2); // replays "b;" and drops its echo
      client.getOutputStream().write("c;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> received.text().equals("a;b;c;"));
      await().during(Duration.ofMillis(200)).atMost(5, SECONDS).until(() -> received.text().equals("a;b;c;"));
      Optional<ConnectionInfo> info = pair.clientSide(client);
      assertThat(info.orElseThrow().reattachments()).isEqualTo(2);
    }
  }

  @Test
  void shouldReplayAServerThatHadAlreadyEndedItsOutputWithoutCallingItDivergent() throws Exception {
    replayPair(UnaryOperator.identity());
    java.util.concurrent.atomic.AtomicLong consumed = new java.util.concurrent.atomic.AtomicLong();
    TestServer.Behaviour greetThenListen =
        (socket, in, out) -> {
          out.write("hello\n".getBytes(UTF_8));
          socket.shutdownOutput(); // done talking; keeps reading the client
          consumed.set(in.transferTo(java.io.OutputStream.nullOutputStream()));
        };
    app = start(greetThenListen);
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      assertThat(new String(client.getInputStream().readAllBytes(), UTF_8)).isEqualTo("hello\n"); // and EOF
      client.getOutputStream().write("one;".getBytes(UTF_8));
      long held = heldEvents();
      crash();
      // with its output shut, a dead app is noticed when the relay next writes to it (epoll reports the reset of a
      // half-closed socket on write, not on read): poke until it is; the pokes are lost in flight or held, and
      // replayed either way
      int pokes = 0;
      long deadline = System.nanoTime() + SECONDS.toNanos(30);
      while (heldEvents() == held && System.nanoTime() < deadline) {
        client.getOutputStream().write(';');
        pokes++;
        Thread.sleep(100);
      }
      awaitHeldAfter(held);
      restart(greetThenListen, client.getLocalPort(), 1); // says hello again: dropped, checked
      client.shutdownOutput();
      await().atMost(10, SECONDS).until(() -> pair.clientEvents.has("closed", SERVICE, "closed normally"));
      assertThat(consumed.get()).isEqualTo(4 + pokes); // the new instance was replayed "one;" and every poke
    }
  }

  private static TestServer.Behaviour echo() {
    return (socket, in, out) -> {
      byte[] buf = new byte[64 * 1024];
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        out.write(buf, 0, n);
      }
      socket.shutdownOutput();
    };
  }
}
