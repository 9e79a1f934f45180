package dev.armor.demo.audio;

import static dev.armor.demo.audio.LineCapture.fields;
import static dev.armor.demo.audio.LineCapture.longField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pacing by the client's {@code PLAYED} reports, on both servers: raw clients that report what they like, then
 * the real client, with reports and without.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ReportPacingTest {

    /** 1 s of audio at 8 kHz: the default lead. */
    private static final int LEAD = 8000;

    enum Kind { BLOCKING, NIO }

    @TempDir
    Path dir;

    private final LineCapture log = new LineCapture();
    private final Melody melody = new Melody(8000);
    private AutoCloseable server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private int start(Kind kind) throws IOException {
        ServerOptions options = new ServerOptions("127.0.0.1", 0, 8000, 50);
        if (kind == Kind.BLOCKING) {
            AudioServer s = new AudioServer(options, log.stream()).start();
            server = s;
            return s.port();
        }
        NioAudioServer s = new NioAudioServer(options, log.stream()).start();
        server = s;
        return s.port();
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** Reads the stream up to offset {@code to} (from {@code from}), checking every byte against the melody. */
    private void readUpTo(Socket socket, long from, long to) throws IOException {
        socket.setSoTimeout(5000);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        byte[] expected = new byte[buffer.length];
        long offset = from;
        while (offset < to) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, to - offset));
            assertThat(n).as("stream ended at offset %d, before %d", offset, to).isPositive();
            melody.fill(expected, 0, n, offset);
            for (int i = 0; i < n; i++) {
                assertThat(buffer[i]).as("byte %d", offset + i).isEqualTo(expected[i]);
            }
            offset += n;
        }
    }

    /** Asserts that nothing more arrives for {@code millis}. */
    private static void assertStalls(Socket socket, int millis) throws IOException {
        socket.setSoTimeout(millis);
        int n;
        try {
            n = socket.getInputStream().read();
        } catch (SocketTimeoutException e) {
            return;
        }
        throw new AssertionError("expected the stream to stall, but read returned " + n);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aReportingClient_isSentNoMoreThanPlayedPlusLead_andMoreWithEachReport(Kind kind) throws Exception {
        int port = start(kind);
        try (Socket socket = connect(port)) {
            long t0 = System.nanoTime();
            send(socket, "HELLO\nPLAYED 0\n");
            readUpTo(socket, 0, LEAD);
            // By the clock 8000 bytes take a second; by the report they come at once.
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(700);
            assertStalls(socket, 600); // well past the 50 ms chunk period: the limit holds, not the clock

            send(socket, "PLAYED 2999\n");
            readUpTo(socket, LEAD, 2999 + LEAD);
            assertStalls(socket, 400);

            send(socket, "PLAYED 2000\nPLAYED 3000\n"); // the highest report counts
            readUpTo(socket, 2999 + LEAD, 3000 + LEAD);
            assertStalls(socket, 400);

            socket.shutdownOutput(); // no report can come any more: the server gives up on this stream
            await().atMost(Duration.ofSeconds(5)).until(() -> log.has("DISCONNECT"));
        }
        assertThat(log.startingWith("DISCONNECT")).singleElement().asString()
                .contains(" bytes=" + (3000 + LEAD) + " ", "reason=peer-closed");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aBurstOfReports_asInAReplay_isAnsweredAtOnceUpToTheLastPositionPlusLead(Kind kind) throws Exception {
        int port = start(kind);
        StringBuilder history = new StringBuilder("HELLO\n");
        for (int played = 0; played <= 80_000; played += 800) {
            history.append("PLAYED ").append(played).append('\n');
        }
        history.append("NOISE 1\nPLAYED -1\nPLAYED abc\nPLAYED 99999999999999999999\n"); // ignored
        try (Socket socket = connect(port)) {
            long t0 = System.nanoTime();
            send(socket, history.toString());
            readUpTo(socket, 0, 80_000 + LEAD);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            // Paced by the clock this would take 11 s.
            assertThat(millis).as("ms to receive 88000 bytes").isLessThan(1000);
            assertStalls(socket, 400);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theRealClient_withReports_playsAt8KBps_oneLeadAhead_onEveryTransport(Kind kind) throws Exception {
        int port = start(kind);
        List<ClientRun> runs = realClients(port, "100");
        for (ClientRun run : runs) {
            assertThat(run.awaitExit()).as("exit code; stderr %s", run.err.lines()).isZero();
            assertRateAbout8KBps(run);
            String summary = run.summary();
            assertThat(fields(summary)).containsEntry("mismatches", "0").containsEntry("errors", "0")
                    .containsEntry("eof", "false").containsEntry("underruns", "0");
            // The server keeps at most LEAD bytes beyond the last reported position, and about that many.
            assertThat(longField(summary, "bytes") - longField(summary, "played")).isBetween(LEAD - 2400L, (long) LEAD);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theRealClient_withoutReports_isPacedByTheClock_onEveryTransport(Kind kind) throws Exception {
        int port = start(kind);
        List<ClientRun> runs = realClients(port, "0");
        for (ClientRun run : runs) {
            assertThat(run.awaitExit()).as("exit code; stderr %s", run.err.lines()).isZero();
            assertRateAbout8KBps(run);
            String summary = run.summary();
            assertThat(fields(summary)).containsEntry("mismatches", "0").containsEntry("errors", "0")
                    .containsEntry("eof", "false");
            // 3.2 s at 8000 B/s, give or take the connect time and a chunk; no lead.
            assertThat(longField(summary, "bytes")).isBetween(24_000L, 27_600L);
            assertThat(longField(summary, "bytes") - longField(summary, "played")).isLessThan(4000L);
        }
    }

    /** One client of each transport at once, 3.2 s each, so that STATS lines come at about 1, 2 and 3 s. */
    private List<ClientRun> realClients(int port, String reportMillis) {
        List<ClientRun> runs = new ArrayList<>();
        for (ClientOptions.Transport transport : ClientOptions.Transport.values()) {
            runs.add(ClientRun.start(AudioClientTest.withTransport(transport, "--port", String.valueOf(port),
                    "--seconds", "3.2", "--events", "--verify", "--report-ms", reportMillis,
                    "--out", dir.resolve(transport + "-" + reportMillis + ".wav").toString())));
        }
        return runs;
    }

    /** The rate between the first and the last STATS line, past the start-up, is 8000 B/s within 10 %. */
    private static void assertRateAbout8KBps(ClientRun run) {
        List<String> stats = run.out.startingWith("STATS ");
        assertThat(stats).as("STATS lines").hasSizeGreaterThanOrEqualTo(3);
        String first = stats.get(0);
        String last = stats.get(stats.size() - 1);
        long millis = longField(last, "t") - longField(first, "t");
        assertThat(millis).isGreaterThanOrEqualTo(1900);
        double rate = (longField(last, "bytes") - longField(first, "bytes")) * 1000.0 / millis;
        assertThat(rate).as("bytes per second from %s to %s", first, last).isBetween(7200.0, 8800.0);
    }
}
