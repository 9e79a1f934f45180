package dev.armor.demo.audio;

import static dev.armor.demo.audio.LineCapture.fields;
import static dev.armor.demo.audio.LineCapture.longField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 15, unit = TimeUnit.SECONDS)
class NioAudioServerTest {

    @TempDir
    Path dir;

    private final LineCapture log = new LineCapture();
    private NioAudioServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int startServer() throws IOException {
        server = new NioAudioServer(new ServerOptions("127.0.0.1", 0, 8000, 50), log.stream()).start();
        return server.port();
    }

    @Test
    void streamsTheSameMelodyAtTheSameRate_toEveryClientFlavourAtOnce() throws Exception {
        int port = startServer();
        List<ClientRun> runs = new ArrayList<>();
        for (ClientOptions.Transport transport : ClientOptions.Transport.values()) {
            // Without playback reports, so paced by the server's clock (ReportPacingTest covers reporting clients).
            runs.add(ClientRun.start(AudioClientTest.withTransport(transport, "--port", String.valueOf(port),
                    "--seconds", "2", "--events", "--verify", "--report-ms", "0",
                    "--out", dir.resolve(transport + ".wav").toString())));
        }
        for (ClientRun run : runs) {
            assertThat(run.awaitExit()).isZero();
            String summary = run.summary();
            // 2 s at 8000 B/s, give or take the connect time and a chunk.
            assertThat(longField(summary, "bytes")).isBetween(14_800L, 18_000L);
            assertThat(fields(summary)).containsEntry("mismatches", "0").containsEntry("errors", "0")
                    .containsEntry("eof", "false");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> log.startingWith("DISCONNECT").size() == 3);
        assertThat(server.clientCount()).isZero();
        assertThat(log.startingWith("LISTENING")).singleElement().asString().contains("server=nio", "port=" + port);
        assertThat(log.startingWith("CONNECT")).hasSize(3);
    }

    @Test
    void rateOverTwoSeconds_isAbout8KBps_forThreeRawClients() throws Exception {
        int port = startServer();
        List<CompletableFuture<AudioServerTest.Received>> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return AudioServerTest.receiveFor(port, 2000);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (CompletableFuture<AudioServerTest.Received> client : clients) {
            assertThat(client.get(10, TimeUnit.SECONDS).bytesInWindow()).isBetween(14_800L, 18_000L);
        }
    }

    @Test
    void peerClosing_isLoggedAsPeerClosed_andClose_endsStreamsInOrder() throws Exception {
        int port = startServer();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            assertThat(socket.getInputStream().read()).isNotNegative();
            socket.shutdownOutput(); // the server sees end of input and hangs up
            await().atMost(Duration.ofSeconds(5)).until(() -> log.has("DISCONNECT"));
        }
        assertThat(log.startingWith("DISCONNECT")).singleElement().asString().contains("reason=peer-closed");

        ClientRun run = ClientRun.start("--port", String.valueOf(port), "--events", "--nio-nonblocking",
                "--out", dir.resolve("eof.wav").toString());
        await().atMost(Duration.ofSeconds(5)).until(() -> run.out.has("EVENT first-data "));
        server.close();
        assertThat(run.awaitExit()).isEqualTo(1);
        assertThat(fields(run.summary())).containsEntry("eof", "true").containsEntry("errors", "0");
        assertThat(log.startingWith("DISCONNECT")).last().asString().contains("reason=shutdown");
        assertThat(log.lines()).last().asString().startsWith("STOPPED t=");
    }

    @Test
    void chunksLargerThanTheSocketTakes_areFinishedOnOpWrite_contiguously() throws Exception {
        // 192000-byte chunks into a client with a 4 KB receive window: every chunk needs many OP_WRITE rounds.
        server = new NioAudioServer(new ServerOptions("127.0.0.1", 0, 192_000, 1000), log.stream()).start();
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()), 2000);
            socket.setSoTimeout(5000);
            InputStream in = socket.getInputStream();
            Melody melody = new Melody(192_000);
            byte[] buffer = new byte[1024];
            byte[] expected = new byte[buffer.length];
            long offset = 0;
            long wrong = 0;
            while (offset < 200_000) { // the first chunk and the start of the second, a second later
                int n = in.read(buffer);
                assertThat(n).isPositive();
                melody.fill(expected, 0, n, offset);
                for (int i = 0; i < n; i++) {
                    wrong += buffer[i] == expected[i] ? 0 : 1;
                }
                offset += n;
            }
            assertThat(wrong).isZero();
        }
    }
}
