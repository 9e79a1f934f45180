package dev.armor.demo.audio;

import static dev.armor.demo.audio.LineCapture.fields;
import static dev.armor.demo.audio.LineCapture.longField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 15, unit = TimeUnit.SECONDS)
class AudioClientTest {

    @TempDir
    Path dir;

    private final LineCapture serverLog = new LineCapture();
    private AudioServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int startServer() throws Exception {
        server = new AudioServer(new ServerOptions("127.0.0.1", 0, 8000, 50), serverLog.stream()).start();
        return server.port();
    }

    @Test
    void serverPause_isReportedAsAGap_andTheResumeCarriesIt() throws Exception {
        try (PausingServer pausing = new PausingServer(10, 400)) {
            ClientRun run = ClientRun.start("--host", "127.0.0.1", "--port", String.valueOf(pausing.port()),
                    "--seconds", "2", "--events", "--gap-ms", "150", "--out", dir.resolve("gap.wav").toString());

            assertThat(run.awaitExit()).isZero();

            List<String> gapStarts = run.out.startingWith("EVENT gap-start ");
            List<String> resumes = run.out.startingWith("EVENT resumed ");
            assertThat(gapStarts).isNotEmpty();
            assertThat(resumes).hasSameSizeAs(gapStarts);
            String longest = resumes.stream().max((a, b) -> Long.compare(longField(a, "gap_ms"), longField(b, "gap_ms")))
                    .orElseThrow();
            assertThat(longField(longest, "gap_ms")).isBetween(350L, 1_000L);
            int resumedAt = run.out.lines().indexOf(longest);
            String itsStart = run.out.lines().subList(0, resumedAt).stream()
                    .filter(l -> l.startsWith("EVENT gap-start ")).reduce((a, b) -> b).orElseThrow();
            assertThat(longField(itsStart, "t") - longField(itsStart, "last_data_t")).isEqualTo(150);
            assertThat(longField(longest, "t") - longField(itsStart, "last_data_t")) // t values are whole ms
                    .isCloseTo(longField(longest, "gap_ms"), within(1L));
            assertThat(run.out.has("EVENT underrun ")).as("a 400 ms pause empties a 200 ms buffer").isTrue();

            String summary = run.summary();
            assertThat(longField(summary, "underruns")).isPositive();
            assertThat(longField(summary, "longest_gap_ms")).isGreaterThanOrEqualTo(350);
            assertThat(longField(summary, "gaps")).isPositive();
            assertThat(fields(summary)).containsEntry("errors", "0").containsEntry("eof", "false");
        }
    }

    @Test
    void wavOutput_hasAValidHeader_andTheBytesOfTheSummary() throws Exception {
        int port = startServer();
        Path wav = dir.resolve("out/client.wav");
        ClientRun run = ClientRun.start("--port", String.valueOf(port), "--seconds", "1.2", "--events", "--verify",
                "--out", wav.toString());

        assertThat(run.awaitExit()).isZero();

        String summary = run.summary();
        long bytes = longField(summary, "bytes");
        // 1.2 s at 8000 B/s, plus up to the second of audio the server keeps ahead of a reporting client's playback.
        assertThat(bytes).isBetween(8_000L, 12_000L + 8_000L);
        assertThat(WavFileSinkTest.assertValidHeader(wav, 8000)).isEqualTo(bytes);
        assertThat(Files.size(wav)).isEqualTo(WavFileSink.HEADER_BYTES + bytes);
        assertThat(fields(summary)).containsEntry("mismatches", "0").containsEntry("eof", "false")
                .containsEntry("errors", "0");
        assertThat(run.out.lines().get(0)).startsWith("EVENT connected t=").contains(" remote=/127.0.0.1:" + port);
        assertThat(run.out.startingWith("STATS ")).isNotEmpty().allSatisfy(l ->
                assertThat(fields(l)).containsKeys("bytes", "underruns", "longest_gap_ms", "t", "gaps", "mismatches"));
        assertThat(run.out.lines()).last().isEqualTo(summary);
    }

    @ParameterizedTest
    @EnumSource(ClientOptions.Transport.class)
    void serverClosing_isReportedAsEof_andExitCodeOne(ClientOptions.Transport transport) throws Exception {
        int port = startServer();
        ClientRun run = ClientRun.start(withTransport(transport, "--port", String.valueOf(port), "--events",
                "--out", dir.resolve("eof.wav").toString()));
        await().atMost(Duration.ofSeconds(5)).until(() -> run.out.has("EVENT first-data "));

        server.close();

        assertThat(run.awaitExit()).isEqualTo(1);
        assertThat(run.out.startingWith("EVENT eof t=")).hasSize(1);
        assertThat(run.out.startingWith("EVENT error")).isEmpty();
        assertThat(fields(run.summary())).containsEntry("eof", "true").containsEntry("errors", "0");
    }

    @Test
    void connectRefused_isAnError_andExitCodeOne() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        ClientRun run = ClientRun.start("--port", String.valueOf(port), "--events", "--out",
                dir.resolve("refused.wav").toString());

        assertThat(run.awaitExit()).isEqualTo(1);
        assertThat(run.out.startingWith("EVENT error ")).singleElement().asString()
                .contains("type=java.net.ConnectException", "message=");
        assertThat(fields(run.summary())).containsEntry("errors", "1").containsEntry("eof", "false")
                .containsEntry("bytes", "0");
    }

    @Test
    void withoutEvents_onlyTheSummaryIsPrinted() throws Exception {
        int port = startServer();
        ClientRun run = ClientRun.start("--port", String.valueOf(port), "--seconds", "0.3", "--out",
                dir.resolve("quiet.wav").toString());
        assertThat(run.awaitExit()).isZero();
        assertThat(run.out.lines()).singleElement().asString().startsWith("SUMMARY bytes=");
    }

    static String[] withTransport(ClientOptions.Transport transport, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        switch (transport) {
            case NIO_BLOCKING -> all.add("--nio");
            case NIO_NONBLOCKING -> all.add("--nio-nonblocking");
            default -> { }
        }
        return all.toArray(String[]::new);
    }
}
