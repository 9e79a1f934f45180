package dev.armor.demo.audio;

import java.util.function.Consumer;

/**
 * Measures how continuous a received audio stream is, from byte counts and monotonic timestamps that the caller
 * passes in (it never reads a clock, so tests drive it with made-up times).
 *
 * <p>Three measures:
 * <ul>
 *   <li><b>Gaps</b>: silence (no byte) longer than the threshold. {@link GapStart} is reported when the silence
 *       crosses the threshold (at the next {@link #onTick} or, at the latest, with the data that ends it), and
 *       {@link Resumed} with the first data after it, carrying the whole silence.</li>
 *   <li><b>Longest gap</b>: the longest silence between two reads that returned data; a snapshot also counts
 *       the silence still running, so a stream that stopped shows it.</li>
 *   <li><b>Underruns</b>: a playback model. Playback starts once the buffer holds {@code bufferNanos} of audio
 *       and then consumes {@code bytesPerSecond}; when it catches up with the bytes received, the buffer ran
 *       dry: an {@link Underrun} at the exact moment it did, and playback waits to re-fill the buffer.</li>
 * </ul>
 * Not thread-safe: the client calls it under one lock.
 */
final class ContinuityMeter {

    /** Something worth an {@code EVENT} line. */
    sealed interface Event permits FirstData, GapStart, Resumed, Underrun {}

    /** The first byte of the stream arrived. */
    record FirstData(long atNanos) implements Event {}

    /** Silence crossed the threshold at {@code atNanos}; the last byte before it came at {@code lastDataNanos}. */
    record GapStart(long atNanos, long lastDataNanos) implements Event {}

    /** Data came again at {@code atNanos} after {@code gapNanos} of silence. */
    record Resumed(long atNanos, long gapNanos) implements Event {}

    /** The playback buffer ran dry at {@code atNanos}. */
    record Underrun(long atNanos) implements Event {}

    /** Counters at one moment. */
    record Snapshot(long bytes, long underruns, long longestGapNanos, long gaps) {}

    private final long bytesPerSecond;
    private final long gapThresholdNanos;
    private final long prefillBytes;
    private final Consumer<Event> listener;

    private long bytes;
    private boolean anyData;
    private long lastDataNanos;
    private boolean gapOpen;
    private long gaps;
    private long longestGapNanos;

    private boolean playing;
    private long playStartNanos;
    private long playedAtStart;
    private long played;
    private long underruns;

    ContinuityMeter(int bytesPerSecond, long gapThresholdNanos, long bufferNanos, Consumer<Event> listener) {
        if (bytesPerSecond <= 0 || gapThresholdNanos <= 0 || bufferNanos <= 0) {
            throw new IllegalArgumentException("rate, gap threshold and buffer must be positive, but were "
                    + bytesPerSecond + ", " + gapThresholdNanos + "ns, " + bufferNanos + "ns");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.gapThresholdNanos = gapThresholdNanos;
        this.prefillBytes = Math.max(1, Math.round(bufferNanos / 1e9 * bytesPerSecond));
        this.listener = listener;
    }

    /** A read returned {@code n > 0} bytes at {@code nowNanos}. */
    void onData(int n, long nowNanos) {
        advancePlayback(nowNanos);
        if (!anyData) {
            anyData = true;
            listener.accept(new FirstData(nowNanos));
        } else {
            long silence = nowNanos - lastDataNanos;
            longestGapNanos = Math.max(longestGapNanos, silence);
            if (silence > gapThresholdNanos) {
                if (!gapOpen) {
                    openGap();
                }
                listener.accept(new Resumed(nowNanos, silence));
            }
        }
        gapOpen = false;
        lastDataNanos = nowNanos;
        bytes += n;
        if (!playing && bytes - played >= prefillBytes) {
            playing = true;
            playStartNanos = nowNanos;
            playedAtStart = played;
        }
    }

    /** Time passed without data; call often (the client does every 10 ms) so gaps are reported promptly. */
    void onTick(long nowNanos) {
        advancePlayback(nowNanos);
        if (anyData && !gapOpen && nowNanos - lastDataNanos > gapThresholdNanos) {
            openGap();
        }
    }

    /**
     * The playback position at {@code nowNanos}: how many bytes the modelled player has consumed (it plays
     * {@code bytesPerSecond} once the buffer has filled, and never past the bytes received). Has no side effects:
     * an underrun it implies is reported by the next {@link #onTick} or {@link #onData}.
     */
    long playedBytes(long nowNanos) {
        if (!playing) {
            return played;
        }
        long elapsed = Math.max(0, nowNanos - playStartNanos);
        long consumed = (long) (elapsed / 1e9 * bytesPerSecond);
        return Math.min(bytes, playedAtStart + consumed);
    }

    Snapshot snapshot(long nowNanos) {
        long longest = anyData ? Math.max(longestGapNanos, nowNanos - lastDataNanos) : longestGapNanos;
        return new Snapshot(bytes, underruns, longest, gaps);
    }

    private void openGap() {
        gapOpen = true;
        gaps++;
        listener.accept(new GapStart(lastDataNanos + gapThresholdNanos, lastDataNanos));
    }

    private void advancePlayback(long nowNanos) {
        if (!playing) {
            return;
        }
        long dryAt = playStartNanos + Math.round((bytes - playedAtStart) * 1e9 / bytesPerSecond);
        if (dryAt <= nowNanos) {
            playing = false;
            played = bytes;
            underruns++;
            listener.accept(new Underrun(dryAt));
        }
    }
}
