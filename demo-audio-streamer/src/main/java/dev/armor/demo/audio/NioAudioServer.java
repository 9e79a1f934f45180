package dev.armor.demo.audio;

import java.io.IOException;
import java.io.PrintStream;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The non-blocking audio server: one thread, a {@link Selector}, a non-blocking {@link ServerSocketChannel} and
 * non-blocking client channels; it streams exactly what {@link AudioServer} streams, paced the same way (by the
 * clock, or by the client's {@code PLAYED} reports once it sends them: see {@link AudioServer}).
 *
 * <p>Design note. The loop selects with a timeout that ends when the earliest client chunk is due. A due client
 * gets its next chunk written at once; what the socket does not take stays in that client's pending buffer, the
 * key gains {@code OP_WRITE}, and no further chunk is made for it until the buffer is flushed (the schedule then
 * catches up, within {@link AudioServer#MAX_LAG_NANOS}). Input is read on {@code OP_READ} and parsed for
 * playback reports ({@link PlayedReports}); end of input closes the connection ({@code reason=peer-closed}).
 * Once a client has reported, the clock no longer matters for it: it is due whenever it may be sent more
 * ({@code sent < played + lead}), and it then gets chunks until that limit or until its socket is full; at the
 * limit it waits for its next report. {@link #close()} wakes the selector; the loop thread
 * half-closes and closes every client, closes the selector and logs {@code STOPPED}.
 *
 * <p>Command line and stdout lines are those of {@link AudioServer} ({@code server=nio} in {@code LISTENING}).
 */
public final class NioAudioServer implements AutoCloseable {

    private final ServerOptions options;
    private final ServerLog log;
    private final Ticker ticker;
    private final Melody melody;
    private final List<Client> clients = new ArrayList<>(); // loop thread only
    private final AtomicInteger clientCount = new AtomicInteger();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ByteBuffer input = ByteBuffer.allocate(4096);
    private volatile boolean closed;
    private Selector selector;
    private ServerSocketChannel listener;
    private volatile int port = -1;
    private Thread loop;
    private long ids;

    public NioAudioServer(ServerOptions options, PrintStream log) {
        this(options, log, Ticker.SYSTEM);
    }

    NioAudioServer(ServerOptions options, PrintStream log, Ticker ticker) {
        this.options = options;
        this.log = new ServerLog(log);
        this.ticker = ticker;
        this.melody = new Melody(options.sampleRate());
    }

    /** Binds, logs {@code LISTENING} and starts the selector thread; returns this. */
    public NioAudioServer start() throws IOException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("server already started");
        }
        selector = Selector.open();
        try {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(AudioServer.bindAddress(options), 50);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            AudioServer.closeQuietly(listener);
            AudioServer.closeQuietly(selector);
            throw e;
        }
        port = listener.socket().getLocalPort();
        log.listening(options, port, "nio");
        loop = new Thread(this::runLoop, "nio-audio-server");
        loop.start();
        return this;
    }

    public int port() {
        if (port < 0) {
            throw new IllegalStateException("server not started");
        }
        return port;
    }

    /** Number of clients being served right now. */
    public int clientCount() {
        return clientCount.get();
    }

    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Stops the loop, ends every client stream with an orderly close, and logs {@code STOPPED}. Idempotent. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            AudioServer.awaitQuietly(stopped);
            return;
        }
        closed = true;
        if (loop == null) {
            stopped.countDown();
            return;
        }
        selector.wakeup();
        AudioServer.awaitQuietly(stopped);
    }

    private void runLoop() {
        try {
            while (!closed) {
                long now = ticker.nanoTime();
                serveDueClients(now);
                long waitNanos = nanosUntilNextDue(ticker.nanoTime());
                if (waitNanos <= 0) {
                    selector.selectNow();
                } else {
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999)));
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    handle(key);
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                log.acceptFailed(e instanceof IOException io ? io : new IOException(e));
            }
        } finally {
            shutdown();
        }
    }

    private void handle(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        if (key.isAcceptable()) {
            accept();
            return;
        }
        Client client = (Client) key.attachment();
        try {
            if (key.isReadable()) {
                input.clear();
                int n;
                while ((n = client.channel.read(input)) > 0) {
                    client.reports.feed(input.array(), 0, n);
                    input.clear();
                }
                if (n < 0) {
                    drop(client, "peer-closed");
                    return;
                }
            }
            if (key.isValid() && key.isWritable()) {
                flush(client);
            }
        } catch (IOException e) {
            drop(client, "io-error " + ServerLog.describe(e));
        }
    }

    private void accept() {
        SocketChannel channel;
        try {
            channel = listener.accept();
            if (channel == null) {
                return;
            }
        } catch (IOException e) {
            log.acceptFailed(e);
            return;
        }
        long id = ++ids;
        SocketAddress remote = null;
        try {
            remote = channel.getRemoteAddress();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Client client = new Client(id, channel, remote, ticker.nanoTime());
            client.key = channel.register(selector, SelectionKey.OP_READ, client);
            clients.add(client);
            clientCount.incrementAndGet();
            log.connect(id, remote);
        } catch (IOException e) {
            log.connect(id, remote);
            log.disconnect(id, remote, 0, 0, "io-error " + ServerLog.describe(e));
            AudioServer.closeQuietly(channel);
        }
    }

    /**
     * Makes and writes the next chunk for every client that is due and has nothing pending. A client paced by
     * its reports is due while it has room under its limit, and gets chunk after chunk until the limit or until
     * its socket takes no more (the rest then goes out on {@code OP_WRITE}).
     */
    private void serveDueClients(long now) {
        for (Client client : new ArrayList<>(clients)) {
            try {
                if (client.reports.any()) {
                    long room;
                    while (!client.pending.hasRemaining() && (room = client.room()) > 0) {
                        nextChunk(client, (int) Math.min(client.pending.capacity(), room));
                        flush(client);
                    }
                } else if (!client.pending.hasRemaining() && client.schedule.isDue(now)) {
                    nextChunk(client, client.pending.capacity());
                    client.schedule.chunkSent(now);
                    flush(client);
                }
            } catch (IOException e) {
                drop(client, "io-error " + ServerLog.describe(e));
            }
        }
    }

    private void nextChunk(Client client, int size) {
        client.pending.clear();
        melody.fill(client.pending.array(), 0, size, client.offset);
        client.pending.limit(size);
        client.offset += size;
    }

    private void flush(Client client) throws IOException {
        client.channel.write(client.pending);
        int interest = client.pending.hasRemaining()
                ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
                : SelectionKey.OP_READ;
        if (client.key.interestOps() != interest) {
            client.key.interestOps(interest);
        }
    }

    private long nanosUntilNextDue(long now) {
        long wait = TimeUnit.SECONDS.toNanos(1);
        for (Client client : clients) {
            if (client.pending.hasRemaining()) {
                continue; // waits for OP_WRITE
            }
            if (!client.reports.any()) {
                wait = Math.min(wait, client.schedule.nextDueNanos() - now);
            } else if (client.room() > 0) {
                wait = 0;
            } // else: waits for a report (OP_READ)
        }
        return wait;
    }

    private void drop(Client client, String reason) {
        if (!clients.remove(client)) {
            return;
        }
        clientCount.decrementAndGet();
        client.key.cancel();
        try {
            client.channel.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // already gone
        }
        AudioServer.closeQuietly(client.channel);
        long sent = client.offset - client.pending.remaining();
        long millis = TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - client.startNanos);
        log.disconnect(client.id, client.remote, sent, millis, reason);
    }

    private void shutdown() {
        AudioServer.closeQuietly(listener);
        for (Client client : new ArrayList<>(clients)) {
            drop(client, "shutdown");
        }
        AudioServer.closeQuietly(selector);
        log.stopped();
        stopped.countDown();
    }

    /** One connection's stream state; touched by the loop thread only. */
    private final class Client {
        final long id;
        final SocketChannel channel;
        final SocketAddress remote;
        final long startNanos;
        final ChunkSchedule schedule;
        final ByteBuffer pending;
        final PlayedReports reports = new PlayedReports();
        SelectionKey key;
        long offset;

        Client(long id, SocketChannel channel, SocketAddress remote, long startNanos) {
            this.id = id;
            this.channel = channel;
            this.remote = remote;
            this.startNanos = startNanos;
            this.schedule = new ChunkSchedule(startNanos, options.chunkNanos(), AudioServer.MAX_LAG_NANOS);
            this.pending = ByteBuffer.allocate(options.chunkBytes());
            this.pending.limit(0);
        }

        /** For a client paced by its reports: how many more bytes it may be sent now. */
        long room() {
            return reports.played() + options.leadBytes() - offset;
        }
    }

    /** {@code NioAudioServer --port P [--host H] [--rate 8000] [--chunk-ms 50] [--lead-ms 1000]}. */
    public static void main(String[] args) throws InterruptedException {
        ServerOptions options = AudioServer.parseOrExit("NioAudioServer", args);
        NioAudioServer server = new NioAudioServer(options, System.out);
        try {
            server.start();
        } catch (IOException e) {
            System.err.println("NioAudioServer: cannot listen on " + options.hostForDisplay() + ":" + options.port()
                    + ": " + ServerLog.describe(e));
            System.exit(1);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "nio-audio-server-shutdown"));
        server.awaitStopped();
    }
}
