package dev.armor.demo.audio;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The blocking audio server: a {@link ServerSocket}, an accept thread and one thread per client, each streaming
 * the {@link Melody}, paced in real time.
 *
 * <p>Pacing. The client's input is ASCII lines: {@code HELLO}, then, from clients that report their playback,
 * {@code PLAYED <n>} lines ({@code n} = bytes its player has consumed; see {@link PlayedReports}). Until a client
 * has sent a valid report (older clients never do) its stream is paced by the clock: one chunk at the start and
 * one every chunk duration after, on an absolute {@link ChunkSchedule}. From its first report on, the clock no
 * longer matters for that connection: the server sends, in chunks, as fast as the socket takes, while
 * {@code sent < played + lead} ({@code --lead-ms}, default 1 s of audio), never past that limit, and then waits
 * for the next report. So the timing of a connection's stream is a function of what the connection sent: a
 * fresh server instance that is given the whole input of a connection at once (Armor's replay recovery) sends
 * at once what the old one had sent by then, and the bytes are the same, since byte {@code n} is always
 * {@code melody.sampleAt(n)}.
 *
 * <p>Design note. Each client thread alternates: parse whatever input is there (with
 * {@link InputStream#available()}, never blocking), write the next chunk if it may, otherwise wait for input
 * with a read bounded by {@code SO_TIMEOUT} (until the next chunk is due, when paced by the clock), so a report
 * is acted on as soon as it comes. A client that goes away shows up as a failed write, which ends that thread
 * only; one stalled at its limit whose input ended can never continue and is dropped ({@code peer-closed}).
 * {@link #close()} (the SIGTERM shutdown hook in {@link #main}) closes the listening socket, half-closes then
 * closes every client socket (so clients see an orderly end of stream), waits briefly for the client threads,
 * and logs {@code STOPPED}. The JVM then exits with the usual 143 for SIGTERM.
 *
 * <p>Command line: {@code AudioServer --port P [--host H] [--rate 8000] [--chunk-ms 50] [--lead-ms 1000]}; the
 * stdout lines are described on {@code ServerLog}.
 */
public final class AudioServer implements AutoCloseable {

    /** If a client falls further behind than this, pacing restarts from now instead of bursting the backlog. */
    static final long MAX_LAG_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a client thread stalled at its lead limit waits for a report before looking at the closed flag. */
    private static final long STALLED_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** How long {@link #close()} waits for the client threads to log their end, all together. */
    private static final long CLIENTS_END_WITHIN_SECONDS = 10;

    private final ServerOptions options;
    private final ServerLog log;
    private final Ticker ticker;
    private final Melody melody;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Socket, Thread> clients = new ConcurrentHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile ServerSocket serverSocket;
    private Thread acceptor;

    public AudioServer(ServerOptions options, PrintStream log) {
        this(options, log, Ticker.SYSTEM);
    }

    AudioServer(ServerOptions options, PrintStream log, Ticker ticker) {
        this.options = options;
        this.log = new ServerLog(log);
        this.ticker = ticker;
        this.melody = new Melody(options.sampleRate());
    }

    /** Binds, logs {@code LISTENING} and starts accepting; returns this. */
    public AudioServer start() throws IOException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("server already started");
        }
        ServerSocket ss = new ServerSocket();
        try {
            ss.setReuseAddress(true);
            ss.bind(bindAddress(options), 50);
        } catch (IOException e) {
            ss.close();
            throw e;
        }
        serverSocket = ss;
        log.listening(options, ss.getLocalPort(), "blocking");
        acceptor = new Thread(this::acceptLoop, "audio-server-acceptor");
        acceptor.start();
        return this;
    }

    /** The bound port (useful with {@code --port 0}). */
    public int port() {
        ServerSocket ss = serverSocket;
        if (ss == null) {
            throw new IllegalStateException("server not started");
        }
        return ss.getLocalPort();
    }

    /** Number of clients being served right now. */
    public int clientCount() {
        return clients.size();
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Stops accepting, ends every client stream with an orderly close, and logs {@code STOPPED}. Idempotent. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            awaitQuietly(stopped);
            return;
        }
        closed = true;
        closeQuietly(serverSocket);
        joinQuietly(acceptor, 2000); // after this no client is added
        // A snapshot: client threads remove themselves before logging DISCONNECT, and that line must come out.
        List<Map.Entry<Socket, Thread>> serving = new ArrayList<>(clients.entrySet());
        for (Map.Entry<Socket, Thread> client : serving) {
            endStream(client.getKey());
            client.getValue().interrupt();
        }
        // Each thread ends as soon as it runs (its socket is closed); the bound is only for a host too loaded to
        // schedule it, and is generous because STOPPED must come after every DISCONNECT (a 2 s bound per thread
        // once let STOPPED overtake a DISCONNECT on a loaded CI host).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLIENTS_END_WITHIN_SECONDS);
        for (Map.Entry<Socket, Thread> client : serving) {
            joinQuietly(client.getValue(), Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        if (started.get()) {
            log.stopped();
        }
        stopped.countDown();
    }

    static SocketAddress bindAddress(ServerOptions options) throws IOException {
        return options.host() == null
                ? new InetSocketAddress(options.port())
                : new InetSocketAddress(InetAddress.getByName(options.host()), options.port());
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                log.acceptFailed(e);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                continue;
            }
            long id = ids.incrementAndGet();
            Thread thread = new Thread(() -> serve(socket, id), "audio-client-" + id);
            clients.put(socket, thread);
            if (closed) {
                clients.remove(socket);
                closeQuietly(socket);
                return;
            }
            thread.start();
        }
    }

    private void serve(Socket socket, long id) {
        SocketAddress remote = socket.getRemoteSocketAddress();
        long startNanos = ticker.nanoTime();
        long sent = 0;
        String reason = "shutdown";
        log.connect(id, remote);
        try (socket) {
            socket.setTcpNoDelay(true);
            Input input = new Input(socket);
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[options.chunkBytes()];
            long lead = options.leadBytes();
            ChunkSchedule schedule = new ChunkSchedule(startNanos, options.chunkNanos(), MAX_LAG_NANOS);
            while (!closed) {
                input.readAvailable();
                int size;
                if (input.reports.any()) {
                    // Paced by the client's playback: up to lead bytes beyond what it has played, no clock.
                    long room = input.reports.played() + lead - sent;
                    if (room <= 0) {
                        if (!input.awaitInput(STALLED_POLL_NANOS)) {
                            reason = "peer-closed";
                            break; // no report can come any more: the stream cannot go on
                        }
                        continue;
                    }
                    size = (int) Math.min(chunk.length, room);
                } else {
                    // Paced by the clock (no report yet), but woken at once by input, which may be a report.
                    long wait = schedule.nextDueNanos() - ticker.nanoTime();
                    if (wait > 0) {
                        if (!input.awaitInput(wait) && !sleepUntil(schedule.nextDueNanos())) {
                            break;
                        }
                        continue;
                    }
                    size = chunk.length;
                }
                melody.fill(chunk, 0, size, sent);
                out.write(chunk, 0, size);
                sent += size;
                if (!input.reports.any()) {
                    schedule.chunkSent(ticker.nanoTime());
                }
            }
        } catch (IOException | UncheckedIOException e) {
            if (!closed) {
                reason = "io-error " + ServerLog.describe(e);
            }
        } finally {
            clients.remove(socket);
            long millis = TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - startNanos);
            log.disconnect(id, remote, sent, millis, reason);
        }
    }

    /**
     * One client's input, read by its serving thread: never blocking unless asked to wait, and then only up to
     * a timeout (the socket's {@code SO_TIMEOUT}), so the thread still writes on time.
     */
    private final class Input {
        final PlayedReports reports = new PlayedReports();
        private final Socket socket;
        private final InputStream in;
        private final byte[] buffer = new byte[512];
        private boolean ended;

        Input(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        /** Reads and parses whatever input is already there. */
        void readAvailable() throws IOException {
            int available;
            while (!ended && (available = in.available()) > 0) {
                int n = in.read(buffer, 0, Math.min(available, buffer.length));
                if (n < 0) {
                    ended = true;
                } else {
                    reports.feed(buffer, 0, n);
                }
            }
        }

        /**
         * Waits up to {@code nanos} for input and parses what comes (returning early when it does); false if the
         * input has ended (the client shut down its output), in which case nothing was waited for.
         */
        boolean awaitInput(long nanos) throws IOException {
            if (ended) {
                return false;
            }
            socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000)));
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    ended = true;
                    return false;
                }
                reports.feed(buffer, 0, n);
            } catch (SocketTimeoutException e) {
                // nothing came: time to write again, or to look at the closed flag
            }
            return true;
        }
    }

    /** Sleeps until {@code dueNanos}; false if the server is closing. */
    private boolean sleepUntil(long dueNanos) {
        long wait;
        while ((wait = dueNanos - ticker.nanoTime()) > 0) {
            if (closed) {
                return false;
            }
            LockSupport.parkNanos(wait);
        }
        return !closed;
    }

    /** Half-close first so the client reads an orderly end of stream even if unread input makes close() reset. */
    static void endStream(Socket socket) {
        try {
            socket.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // already gone: closing below is all that is left to do
        }
        closeQuietly(socket);
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // closing on the way out; nothing useful to do with the failure
        }
    }

    static void joinQuietly(Thread t, long millis) {
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code AudioServer --port P [--host H] [--rate 8000] [--chunk-ms 50] [--lead-ms 1000]}. */
    public static void main(String[] args) throws InterruptedException {
        ServerOptions options = parseOrExit("AudioServer", args);
        AudioServer server = new AudioServer(options, System.out);
        try {
            server.start();
        } catch (IOException e) {
            System.err.println("AudioServer: cannot listen on " + options.hostForDisplay() + ":" + options.port()
                    + ": " + ServerLog.describe(e));
            System.exit(1);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "audio-server-shutdown"));
        server.awaitStopped();
    }

    static ServerOptions parseOrExit(String program, String[] args) {
        if (Args.wantsHelp(args)) {
            System.out.println("usage: java -cp <jar> dev.armor.demo.audio." + program + " --port P [options]");
            System.out.println(ServerOptions.USAGE);
            System.exit(0);
        }
        try {
            return ServerOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(program + ": " + e.getMessage());
            System.err.println(ServerOptions.USAGE);
            System.exit(2);
            throw e;
        }
    }
}
