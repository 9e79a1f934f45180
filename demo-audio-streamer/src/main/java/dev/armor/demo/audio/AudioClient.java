package dev.armor.demo.audio;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The audio client: connects once, says {@code HELLO}, then reads the stream, plays or records it, and measures
 * how continuous it is. It never reconnects: a broken stream must show, since Armor's job is to keep it from
 * breaking.
 *
 * <p>Protocol. Everything the client sends is ASCII lines ending in {@code \n}: {@code HELLO} once, on connect,
 * then {@code PLAYED <n>} every {@code --report-ms} (default 100 ms; 0 = never), {@code n} being the playback
 * position of the modelled player (the bytes it has consumed, see {@link ContinuityMeter}: real-time playback
 * once the {@code --buffer-ms} buffer has filled), not the bytes received. The servers pace a reporting client's
 * stream by these reports (up to a lead of about a second beyond {@code n}) rather than by their clock, so the
 * timing of the stream, like its bytes, follows from what the connection sent.
 *
 * <p>Command line:
 * <pre>
 * AudioClient --host H --port P [--seconds N] [--out file.wav] [--events] [--gap-ms 150] [--buffer-ms 200]
 *             [--rate 8000] [--nio | --nio-nonblocking] [--verify] [--connect-timeout-ms 5000]
 *             [--report-ms 100]
 * </pre>
 *
 * <p>Output on stdout, one line each, {@code key=value} fields separated by single spaces; {@code t} is epoch
 * milliseconds derived from the monotonic clock (so the values of one run never go backwards). Parsers should
 * read fields by key: fields may be added after the ones listed, never removed or reordered.
 * <pre>
 * EVENT connected t=T local=/127.0.0.1:50512 remote=/127.0.0.1:7000
 * EVENT first-data t=T                       first byte of the stream
 * EVENT gap-start t=T last_data_t=T0          silence crossed --gap-ms at T (T = T0 + gap-ms); printed when noticed
 * EVENT resumed t=T gap_ms=G                  T = arrival of the first byte after the gap; G = whole silence
 * EVENT underrun t=T                          the modelled playback buffer (--buffer-ms) ran dry at T
 * EVENT mismatch t=T offset=O                 (--verify) a run of reads with wrong bytes starts at stream offset O
 * EVENT eof t=T                               the server closed the stream
 * EVENT error t=T type=java.net.SocketException message=Connection reset   (message: rest of the line)
 * STATS bytes=B underruns=U longest_gap_ms=G t=T gaps=N [mismatches=M] played=P     once a second
 * SUMMARY bytes=B underruns=U longest_gap_ms=G errors=E eof=true|false gaps=N [mismatches=M] played=P   always, last
 * </pre>
 * {@code EVENT} and {@code STATS} lines appear only with {@code --events}; {@code SUMMARY} always does.
 * {@code longest_gap_ms} is the longest silence between two reads that returned data, counting the silence
 * still running at the time of the line; {@code played} is the modelled playback position (what a
 * {@code PLAYED} report would say then). Human-readable notes go to stderr.
 *
 * <p>Exit code: 0 if the run ended because {@code --seconds} elapsed with no error and no end of stream;
 * 1 after an error (connect failures included) or end of stream; 2 for bad arguments. (On SIGTERM the summary is
 * still printed and the WAV file completed; the JVM then exits with 143.)
 *
 * <p>Design note. Three threads: a reader that blocks in {@code read} and feeds the {@link ContinuityMeter} and
 * the sink; a reporter that sends the {@code PLAYED} lines, so that a write that blocks never delays the reader
 * (see {@link ClientConnection#send}); and the calling thread, which ticks every 10 ms to notice gaps while no
 * data comes, prints {@code STATS}, and enforces {@code --seconds} by closing the connection (a flag set first
 * tells the others that the resulting failure is not an error). They touch the meter and print under one lock,
 * so lines come out in the order things happened. A report that cannot be sent ends the reporting only (noted
 * on stderr): the reader is the one that tells how the connection ended.
 */
public final class AudioClient {

    static final byte[] HELLO = "HELLO\n".getBytes(StandardCharsets.US_ASCII);
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long STATS_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ClientOptions options;
    private final PrintStream out;
    private final PrintStream err;
    private final Ticker ticker;
    private final long nanoBase;
    private final long epochBaseMillis;
    private final Object lock = new Object();
    private final ContinuityMeter meter;
    private final StreamVerifier verifier;
    private final CountDownLatch readerDone = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile boolean stopRequested;
    private boolean eof;   // guarded by lock
    private int errors;    // guarded by lock

    public AudioClient(ClientOptions options, PrintStream out, PrintStream err) {
        this(options, out, err, Ticker.SYSTEM, System::currentTimeMillis);
    }

    AudioClient(ClientOptions options, PrintStream out, PrintStream err, Ticker ticker, LongSupplier epochMillis) {
        this.options = options;
        this.out = out;
        this.err = err;
        this.ticker = ticker;
        this.nanoBase = ticker.nanoTime();
        this.epochBaseMillis = epochMillis.getAsLong();
        this.meter = new ContinuityMeter(options.sampleRate(),
                TimeUnit.MILLISECONDS.toNanos(options.gapMillis()),
                TimeUnit.MILLISECONDS.toNanos(options.bufferMillis()),
                this::onMeterEvent);
        this.verifier = options.verify() ? new StreamVerifier(new Melody(options.sampleRate())) : null;
    }

    /** Runs to the end (seconds elapsed, end of stream, error or {@link #stop()}); prints SUMMARY; exit code. */
    public int run() {
        long start = ticker.nanoTime();
        AudioSink sink = null;
        ClientConnection connection = null;
        Thread reader = null;
        Thread reporter = null;
        try {
            sink = openSink();
            err.println("AudioClient: " + sink.describe());
            connection = ClientConnection.open(options.transport(),
                    new InetSocketAddress(options.host(), options.port()), options.connectTimeoutMillis());
            event("connected", ticker.nanoTime(),
                    " local=" + connection.localAddress() + " remote=" + connection.remoteAddress());
            connection.send(HELLO);
            ClientConnection c = connection;
            AudioSink s = sink;
            reader = new Thread(() -> readLoop(c, s), "audio-client-reader");
            reader.setDaemon(true);
            reader.start();
            if (options.reportMillis() > 0) {
                reporter = new Thread(() -> reportLoop(c), "audio-client-reporter");
                reporter.setDaemon(true);
                reporter.start();
            }
            monitor(start);
        } catch (Exception e) {
            if (!stopping) {
                reportError(e);
            }
        } finally {
            stopping = true;
            LockSupport.unpark(reporter);
            AudioServer.closeQuietly(connection);
            AudioServer.joinQuietly(reader, 2000);
            AudioServer.joinQuietly(reporter, 2000);
            closeSink(sink);
        }
        int code;
        synchronized (lock) {
            ContinuityMeter.Snapshot s = meter.snapshot(ticker.nanoTime());
            out.println("SUMMARY bytes=" + s.bytes() + " underruns=" + s.underruns()
                    + " longest_gap_ms=" + TimeUnit.NANOSECONDS.toMillis(s.longestGapNanos())
                    + " errors=" + errors + " eof=" + eof + " gaps=" + s.gaps() + mismatchField()
                    + " played=" + meter.playedBytes(ticker.nanoTime()));
            out.flush();
            code = errors == 0 && !eof ? 0 : 1;
        }
        finished.countDown();
        return code;
    }

    /** Asks a running {@link #run()} to stop as if its time were up (used on SIGTERM). */
    public void stop() {
        stopRequested = true;
    }

    /** Waits until {@link #run()} has printed its summary. */
    public boolean awaitFinished(long timeout, TimeUnit unit) throws InterruptedException {
        return finished.await(timeout, unit);
    }

    private AudioSink openSink() throws IOException {
        if (options.out() == null) {
            Optional<SoundLineSink> line = SoundLineSink.open(options.sampleRate());
            if (line.isPresent()) {
                return line.get();
            }
            return new WavFileSink(Path.of(ClientOptions.DEFAULT_WAV), options.sampleRate());
        }
        return new WavFileSink(options.out(), options.sampleRate());
    }

    private void monitor(long start) throws InterruptedException {
        long limit = options.durationNanos();
        long nextStats = start + STATS_NANOS;
        while (!stopRequested) {
            long now = ticker.nanoTime();
            synchronized (lock) {
                meter.onTick(now);
                if (now - nextStats >= 0) {
                    stats(now);
                    while (now - nextStats >= 0) {
                        nextStats += STATS_NANOS;
                    }
                }
            }
            long left = limit > 0 ? limit - (now - start) : TICK_NANOS;
            if (left <= 0 || readerDone.await(Math.min(TICK_NANOS, left), TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }

    private void readLoop(ClientConnection connection, AudioSink sink) {
        byte[] buffer = new byte[8192];
        try {
            while (true) {
                int n = connection.read(buffer);
                long now = ticker.nanoTime();
                synchronized (lock) {
                    if (stopping) {
                        return;
                    }
                    if (n < 0) {
                        eof = true;
                        event("eof", now, "");
                        return;
                    }
                    meter.onData(n, now);
                    if (verifier != null) {
                        long wrongAt = verifier.check(buffer, n);
                        if (wrongAt >= 0) {
                            event("mismatch", now, " offset=" + wrongAt);
                        }
                    }
                }
                sink.write(buffer, 0, n);
            }
        } catch (Exception e) {
            if (!stopping) {
                reportError(e);
            }
        } finally {
            readerDone.countDown();
        }
    }

    /** Sends {@code PLAYED <n>} every {@code --report-ms} until stopping, end of stream or a failed write. */
    private void reportLoop(ClientConnection connection) {
        long period = TimeUnit.MILLISECONDS.toNanos(options.reportMillis());
        long next = ticker.nanoTime() + period;
        try {
            while (!stopping) {
                long wait = next - ticker.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                long played;
                synchronized (lock) {
                    if (eof) {
                        return; // the server is done with this connection; writing to it can only fail
                    }
                    played = meter.playedBytes(ticker.nanoTime());
                }
                connection.send(("PLAYED " + played + "\n").getBytes(StandardCharsets.US_ASCII));
                next += period;
                long now = ticker.nanoTime();
                if (now - next > period) {
                    next = now + period; // a write was held up: go on from now, no burst of stale reports
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!stopping) {
                err.println("AudioClient: stopped reporting the playback position: " + ServerLog.describe(e));
            }
        }
    }

    private void closeSink(AudioSink sink) {
        if (sink == null) {
            return;
        }
        try {
            sink.close();
        } catch (IOException | RuntimeException e) {
            reportError(e);
        }
    }

    private void onMeterEvent(ContinuityMeter.Event e) {
        // called under lock, from meter.onData / onTick
        if (e instanceof ContinuityMeter.FirstData d) {
            event("first-data", d.atNanos(), "");
        } else if (e instanceof ContinuityMeter.GapStart g) {
            event("gap-start", g.atNanos(), " last_data_t=" + epochMillis(g.lastDataNanos()));
        } else if (e instanceof ContinuityMeter.Resumed r) {
            event("resumed", r.atNanos(), " gap_ms=" + TimeUnit.NANOSECONDS.toMillis(r.gapNanos()));
        } else if (e instanceof ContinuityMeter.Underrun u) {
            event("underrun", u.atNanos(), "");
        }
    }

    private void reportError(Exception e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ').replace('\r', ' ');
        synchronized (lock) {
            errors++;
            event("error", ticker.nanoTime(), " type=" + e.getClass().getName() + " message=" + message);
        }
        err.println("AudioClient: " + ServerLog.describe(e));
    }

    private void stats(long now) {
        if (!options.events()) {
            return;
        }
        ContinuityMeter.Snapshot s = meter.snapshot(now);
        out.println("STATS bytes=" + s.bytes() + " underruns=" + s.underruns()
                + " longest_gap_ms=" + TimeUnit.NANOSECONDS.toMillis(s.longestGapNanos())
                + " t=" + epochMillis(now) + " gaps=" + s.gaps() + mismatchField()
                + " played=" + meter.playedBytes(now));
        out.flush();
    }

    private String mismatchField() {
        return verifier == null ? "" : " mismatches=" + verifier.mismatches();
    }

    private void event(String name, long atNanos, String fields) {
        if (!options.events()) {
            return;
        }
        synchronized (lock) {
            out.println("EVENT " + name + " t=" + epochMillis(atNanos) + fields);
            out.flush();
        }
    }

    private long epochMillis(long nanos) {
        return epochBaseMillis + Math.floorDiv(nanos - nanoBase, 1_000_000L);
    }

    /** See the class comment for the command line, the output lines and the exit codes. */
    public static void main(String[] args) {
        if (Args.wantsHelp(args)) {
            System.out.println("usage: java -cp <jar> dev.armor.demo.audio.AudioClient --host H --port P [options]");
            System.out.println(ClientOptions.USAGE);
            System.exit(0);
        }
        ClientOptions options;
        try {
            options = ClientOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("AudioClient: " + e.getMessage());
            System.err.println(ClientOptions.USAGE);
            System.exit(2);
            return;
        }
        AudioClient client = new AudioClient(options, System.out, System.err);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.stop();
            try {
                client.awaitFinished(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "audio-client-shutdown"));
        System.exit(client.run());
    }
}
