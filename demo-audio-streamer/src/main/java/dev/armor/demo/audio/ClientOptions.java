package dev.armor.demo.audio;

import java.nio.file.Path;
import java.util.Set;

/**
 * Settings of {@link AudioClient}, validated once when built.
 *
 * @param host               server host (default 127.0.0.1)
 * @param port               server port (required)
 * @param seconds            how long to listen, or 0 to listen until end of stream or error (default 0)
 * @param out                WAV file to write; {@code null} plays to the sound device when one is usable and
 *                           otherwise writes {@value #DEFAULT_WAV}
 * @param events             print {@code EVENT} and {@code STATS} lines (default off)
 * @param gapMillis          silence longer than this is a gap (default 150 ms)
 * @param bufferMillis       playback buffer of the underrun model (default 200 ms)
 * @param sampleRate         bytes per second of the stream (default 8000; must match the server)
 * @param transport          how to connect and read (default {@link Transport#SOCKET})
 * @param verify             compare every byte with the melody the servers generate (default off)
 * @param connectTimeoutMillis connect timeout (default 5000 ms; the blocking NIO flavour uses the OS's own)
 * @param reportMillis       send {@code PLAYED <n>} (the playback model's position) every this many ms, which
 *                           makes the servers pace the stream by it; 0 = never, leaving them to pace by their
 *                           clock (default 100; keep it below the gap threshold, as data then comes per report)
 */
public record ClientOptions(
        String host,
        int port,
        double seconds,
        Path out,
        boolean events,
        int gapMillis,
        int bufferMillis,
        int sampleRate,
        Transport transport,
        boolean verify,
        int connectTimeoutMillis,
        int reportMillis) {

    /** WAV file written when no sound device is usable and no {@code --out} is given. */
    public static final String DEFAULT_WAV = "audio-client.wav";
    /** Default interval of the {@code PLAYED} reports. */
    public static final int DEFAULT_REPORT_MILLIS = 100;

    /** How the client talks to the server. */
    public enum Transport {
        /** {@code java.net.Socket} and its streams ({@code --nio} absent). */
        SOCKET,
        /** A blocking {@code SocketChannel} ({@code --nio}). */
        NIO_BLOCKING,
        /** A non-blocking {@code SocketChannel} driven by a {@code Selector} ({@code --nio-nonblocking}). */
        NIO_NONBLOCKING
    }

    static final String USAGE = String.join(System.lineSeparator(),
            "options: --port P (required)",
            "         [--host H]             server host (default 127.0.0.1)",
            "         [--seconds N]          stop after N seconds (decimals allowed; default: until EOF or error)",
            "         [--out FILE.wav]       write a WAV file instead of playing (default: play if a sound line",
            "                                is usable, else write " + DEFAULT_WAV + ")",
            "         [--events]             print EVENT / STATS lines on stdout",
            "         [--gap-ms G]           silence longer than G ms is a gap (default 150)",
            "         [--buffer-ms B]        playback buffer of the underrun model (default 200)",
            "         [--rate R]             stream bytes per second (default 8000)",
            "         [--nio]                use a blocking SocketChannel",
            "         [--nio-nonblocking]    use a non-blocking SocketChannel and a Selector",
            "         [--verify]             check every byte against the servers' melody (mismatches=)",
            "         [--connect-timeout-ms T] (default 5000)",
            "         [--report-ms M]        send PLAYED <position> every M ms so the server paces by playback",
            "                                (default 100; 0 = never: the server paces by its clock)");

    public ClientOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be empty, but was '" + host + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535, but was " + port);
        }
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException("seconds must be positive (or 0 for no limit), but was " + seconds);
        }
        if (gapMillis < 1) {
            throw new IllegalArgumentException("gap-ms must be positive, but was " + gapMillis);
        }
        if (bufferMillis < 1) {
            throw new IllegalArgumentException("buffer-ms must be positive, but was " + bufferMillis);
        }
        if (sampleRate < 1000 || sampleRate > 192_000) {
            throw new IllegalArgumentException("rate must be in 1000..192000, but was " + sampleRate);
        }
        if (connectTimeoutMillis < 1) {
            throw new IllegalArgumentException("connect-timeout-ms must be positive, but was " + connectTimeoutMillis);
        }
        if (reportMillis < 0) {
            throw new IllegalArgumentException("report-ms must not be negative, but was " + reportMillis);
        }
        if (transport == null) {
            transport = Transport.SOCKET;
        }
    }

    /** The default report interval. */
    public ClientOptions(String host, int port, double seconds, Path out, boolean events, int gapMillis,
            int bufferMillis, int sampleRate, Transport transport, boolean verify, int connectTimeoutMillis) {
        this(host, port, seconds, out, events, gapMillis, bufferMillis, sampleRate, transport, verify,
                connectTimeoutMillis, DEFAULT_REPORT_MILLIS);
    }

    /** Defaults for everything but host and port. */
    public static ClientOptions of(String host, int port) {
        return new ClientOptions(host, port, 0, null, false, 150, 200, 8000, Transport.SOCKET, false, 5000,
                DEFAULT_REPORT_MILLIS);
    }

    /** Parses the command line described by {@link #USAGE}. */
    public static ClientOptions parse(String... argv) {
        Args args = Args.parse(argv,
                Set.of("host", "port", "seconds", "out", "gap-ms", "buffer-ms", "rate", "connect-timeout-ms",
                        "report-ms"),
                Set.of("events", "nio", "nio-nonblocking", "verify"));
        Transport transport = args.flag("nio-nonblocking")
                ? Transport.NIO_NONBLOCKING
                : args.flag("nio") ? Transport.NIO_BLOCKING : Transport.SOCKET;
        String out = args.string("out", null);
        return new ClientOptions(
                args.string("host", "127.0.0.1"),
                args.requiredInteger("port", 1, 65535),
                args.positiveDecimal("seconds", 0),
                out == null ? null : Path.of(out),
                args.flag("events"),
                args.integer("gap-ms", 150, 1, 3_600_000),
                args.integer("buffer-ms", 200, 1, 3_600_000),
                args.integer("rate", 8000, 1000, 192_000),
                transport,
                args.flag("verify"),
                args.integer("connect-timeout-ms", 5000, 1, 3_600_000),
                args.integer("report-ms", DEFAULT_REPORT_MILLIS, 0, 3_600_000));
    }

    /** The listening time in nanoseconds, or 0 for no limit. */
    long durationNanos() {
        return (long) (seconds * 1e9);
    }
}
