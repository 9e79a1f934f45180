package dev.armor.demo.audio;

import java.util.Set;

/**
 * Settings shared by {@link AudioServer} and {@link NioAudioServer}, validated once when built.
 *
 * @param host        address to bind, or {@code null} for the wildcard address (default: wildcard, like
 *                    {@code new ServerSocket(port)})
 * @param port        TCP port; 0 picks a free one (the {@code LISTENING} line says which)
 * @param sampleRate  samples (= bytes) per second (default 8000)
 * @param chunkMillis duration of the audio in one write (default 50 ms, so 400 bytes at 8 kHz)
 * @param leadMillis  for a client that reports its playback ({@code PLAYED n}), how far ahead of the reported
 *                    position the server may send (default 1000 ms, so 8000 bytes at 8 kHz). It should be well
 *                    above the client's playback buffer plus its report interval, or the client's player starves
 */
public record ServerOptions(String host, int port, int sampleRate, int chunkMillis, int leadMillis) {

    /** Default sample rate: 8 kHz, 8-bit mono, so 8000 bytes a second. */
    public static final int DEFAULT_RATE = 8000;
    /** Default chunk: 50 ms of audio per write. */
    public static final int DEFAULT_CHUNK_MILLIS = 50;
    /** Default lead: a reporting client may be sent up to 1 s of audio beyond what it has played. */
    public static final int DEFAULT_LEAD_MILLIS = 1000;

    static final String USAGE = String.join(System.lineSeparator(),
            "options: --port P (required; 0 = any free port)",
            "         [--host H]       address to bind (default: all addresses)",
            "         [--rate R]       samples per second, 8-bit unsigned mono (default 8000)",
            "         [--chunk-ms M]   audio per write in milliseconds (default 50)",
            "         [--lead-ms L]    for clients that report PLAYED n: send at most L ms of audio beyond",
            "                          the reported position (default 1000); other clients are paced by the clock");

    public ServerOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, but was " + port);
        }
        if (sampleRate < 1000 || sampleRate > 192_000) {
            throw new IllegalArgumentException("rate must be in 1000..192000, but was " + sampleRate);
        }
        if (chunkMillis < 1 || chunkMillis > 1000) {
            throw new IllegalArgumentException("chunk-ms must be in 1..1000, but was " + chunkMillis);
        }
        if (leadMillis < 1 || leadMillis > 3_600_000) {
            throw new IllegalArgumentException("lead-ms must be in 1..3600000, but was " + leadMillis);
        }
    }

    /** The default lead. */
    public ServerOptions(String host, int port, int sampleRate, int chunkMillis) {
        this(host, port, sampleRate, chunkMillis, DEFAULT_LEAD_MILLIS);
    }

    /** Defaults for everything but the port. */
    public static ServerOptions onPort(int port) {
        return new ServerOptions(null, port, DEFAULT_RATE, DEFAULT_CHUNK_MILLIS);
    }

    /** Parses {@code --port P [--host H] [--rate R] [--chunk-ms M] [--lead-ms L]}. */
    public static ServerOptions parse(String... argv) {
        Args args = Args.parse(argv, Set.of("port", "host", "rate", "chunk-ms", "lead-ms"), Set.of());
        return new ServerOptions(
                args.string("host", null),
                args.requiredInteger("port", 0, 65535),
                args.integer("rate", DEFAULT_RATE, 1000, 192_000),
                args.integer("chunk-ms", DEFAULT_CHUNK_MILLIS, 1, 1000),
                args.integer("lead-ms", DEFAULT_LEAD_MILLIS, 1, 3_600_000));
    }

    /** Bytes in one chunk (at least one). */
    int chunkBytes() {
        return Math.max(1, (int) ((long) sampleRate * chunkMillis / 1000));
    }

    /** Playing time of one chunk, exactly, so that pacing does not drift when the rate is not a round number. */
    long chunkNanos() {
        return chunkBytes() * 1_000_000_000L / sampleRate;
    }

    /** The lead in bytes (at least one). */
    long leadBytes() {
        return Math.max(1, (long) sampleRate * leadMillis / 1000);
    }

    String hostForDisplay() {
        return host == null ? "0.0.0.0" : host;
    }
}
