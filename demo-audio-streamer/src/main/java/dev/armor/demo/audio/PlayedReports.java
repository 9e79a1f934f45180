package dev.armor.demo.audio;

import java.nio.charset.StandardCharsets;

/**
 * The server's view of one client's input: the playback reports it sent.
 *
 * <p>The client protocol is ASCII lines ending in {@code \n} (a {@code \r} before it is tolerated):
 * {@code HELLO} first, then {@code PLAYED <n>} from time to time, {@code n} being how many bytes of the stream
 * the client's player has consumed. Only well-formed {@code PLAYED} lines count ({@code PLAYED}, one space, 1 to
 * 18 decimal digits); every other line, malformed or unknown ({@code HELLO} included), is ignored, and so is any
 * line longer than {@value #MAX_LINE} bytes. Lines may arrive split across reads, or many in one.
 *
 * <p>The position kept is the highest one reported (a client's playback never goes backwards, so this is the
 * last one). Not thread-safe: one connection's input is read by one thread.
 */
final class PlayedReports {

    /** Longest line considered; longer ones are skipped up to their end of line. */
    static final int MAX_LINE = 64;

    private static final byte[] PREFIX = "PLAYED ".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_DIGITS = 18; // fits a long without overflow

    private final byte[] line = new byte[MAX_LINE];
    private int length;
    private boolean overlong;
    private long played = -1;
    private long reports;

    /** Consumes {@code length} bytes of input. */
    void feed(byte[] data, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = data[i];
            if (b == '\n') {
                if (!overlong) {
                    parse();
                }
                this.length = 0;
                overlong = false;
            } else if (this.length < MAX_LINE) {
                line[this.length++] = b;
            } else {
                overlong = true;
            }
        }
    }

    /** Whether the client has sent at least one valid {@code PLAYED} line. */
    boolean any() {
        return played >= 0;
    }

    /** The highest playback position reported, or -1 before the first report. */
    long played() {
        return played;
    }

    /** How many valid reports arrived. */
    long reports() {
        return reports;
    }

    private void parse() {
        int end = length;
        if (end > 0 && line[end - 1] == '\r') {
            end--;
        }
        int digits = end - PREFIX.length;
        if (digits < 1 || digits > MAX_DIGITS) {
            return;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (line[i] != PREFIX[i]) {
                return;
            }
        }
        long value = 0;
        for (int i = PREFIX.length; i < end; i++) {
            int d = line[i] - '0';
            if (d < 0 || d > 9) {
                return;
            }
            value = value * 10 + d;
        }
        reports++;
        played = Math.max(played, value);
    }
}
