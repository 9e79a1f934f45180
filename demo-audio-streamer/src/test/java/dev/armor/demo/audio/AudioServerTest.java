package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 15, unit = TimeUnit.SECONDS)
class AudioServerTest {

    private final LineCapture log = new LineCapture();
    private AudioServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** What one raw client saw in the window of {@code windowMillis} that starts with its first byte. */
    record Received(long bytesInWindow, byte[] head) {}

    /** A plain socket client: says HELLO, then counts what arrives from the first byte on for the window. */
    static Received receiveFor(int port, long windowMillis) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.getOutputStream().write(AudioClient.HELLO);
            socket.setSoTimeout(2000);
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            int n = in.read(buffer);
            long windowEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(windowMillis);
            long total = 0;
            while (n > 0) {
                total += n;
                if (head.size() < 4000) {
                    head.write(buffer, 0, n);
                }
                long left = TimeUnit.NANOSECONDS.toMillis(windowEnd - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                socket.setSoTimeout((int) left);
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    break;
                }
            }
            return new Received(total, head.toByteArray());
        }
    }

    @Test
    void streamsTheMelodyToThreeConcurrentClientsAt8KBps() throws Exception {
        server = new AudioServer(new ServerOptions("127.0.0.1", 0, 8000, 50), log.stream()).start();
        int port = server.port();

        List<CompletableFuture<Received>> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return receiveFor(port, 2000);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.clientCount() == 3);

        Melody melody = new Melody(8000);
        for (CompletableFuture<Received> client : clients) {
            Received r = client.get(10, TimeUnit.SECONDS);
            // 2 s at 8000 B/s plus the chunk that opened the window: 16400 bytes, within 10 %.
            assertThat(r.bytesInWindow()).isBetween(14_800L, 18_000L);
            for (int i = 0; i < r.head().length; i++) {
                assertThat(r.head()[i] & 0xFF).as("byte %d", i).isEqualTo(melody.sampleAt(i));
            }
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> log.startingWith("DISCONNECT").size() == 3);
        assertThat(server.clientCount()).isZero();
        assertThat(log.startingWith("LISTENING")).singleElement().asString()
                .contains("host=127.0.0.1", "port=" + port, "rate=8000", "chunk_bytes=400", "server=blocking");
        assertThat(log.startingWith("CONNECT")).hasSize(3).allSatisfy(l -> assertThat(l).contains("remote=/127.0.0.1:"));
        assertThat(log.startingWith("DISCONNECT")).allSatisfy(l -> assertThat(l).contains("reason=io-error"));
    }

    @Test
    void close_endsEveryStreamInOrder_andLogsStopped() throws Exception {
        server = new AudioServer(new ServerOptions("127.0.0.1", 0, 8000, 50), log.stream()).start();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(3000);
            InputStream in = socket.getInputStream();
            assertThat(in.read()).isNotNegative();
            server.close();
            byte[] buffer = new byte[4096];
            int n;
            do {
                n = in.read(buffer);
            } while (n > 0);
            assertThat(n).as("orderly end of stream, not a reset").isEqualTo(-1);
        }
        assertThat(log.startingWith("DISCONNECT")).singleElement().asString().contains("reason=shutdown");
        assertThat(log.lines()).last().asString().startsWith("STOPPED t=");
    }
}
