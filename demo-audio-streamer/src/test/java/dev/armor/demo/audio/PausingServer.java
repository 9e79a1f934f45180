package dev.armor.demo.audio;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A stand-in server for one client: streams the melody paced like the real servers, but after
 * {@code chunksBeforePause} chunks stops writing for {@code pauseMillis}, then streams on (no catch-up burst)
 * until the client goes away.
 */
final class PausingServer implements AutoCloseable {

    private static final long CHUNK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final ServerSocket serverSocket;
    private final Thread thread;
    private final int chunksBeforePause;
    private final long pauseNanos;

    PausingServer(int chunksBeforePause, long pauseMillis) throws IOException {
        this.serverSocket = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        this.chunksBeforePause = chunksBeforePause;
        this.pauseNanos = TimeUnit.MILLISECONDS.toNanos(pauseMillis);
        this.thread = new Thread(this::serve, "pausing-server");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    int port() {
        return serverSocket.getLocalPort();
    }

    private void serve() {
        try (Socket socket = serverSocket.accept()) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            Melody melody = new Melody(8000);
            byte[] chunk = new byte[400];
            long offset = 0;
            ChunkSchedule schedule = new ChunkSchedule(System.nanoTime(), CHUNK_NANOS, 0);
            for (int k = 0; ; k++) {
                if (k == chunksBeforePause) {
                    sleepUntil(System.nanoTime() + pauseNanos);
                    schedule = new ChunkSchedule(System.nanoTime(), CHUNK_NANOS, 0);
                }
                melody.fill(chunk, 0, chunk.length, offset);
                out.write(chunk);
                offset += chunk.length;
                schedule.chunkSent(System.nanoTime());
                sleepUntil(schedule.nextDueNanos());
            }
        } catch (IOException e) {
            // the client went away: done
        }
    }

    private static void sleepUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
    }
}
