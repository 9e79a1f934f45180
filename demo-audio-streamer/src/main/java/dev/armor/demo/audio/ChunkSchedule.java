package dev.armor.demo.audio;

/**
 * When the next chunk of a paced stream is due.
 *
 * <p>Chunk {@code k} is due at {@code start + k * chunkNanos} on the monotonic clock, an absolute schedule, so
 * sleeping a little too long never accumulates into drift: a late chunk is followed by the next one sooner. If
 * the stream falls more than {@code maxLagNanos} behind (a slow reader, a stopped process), the schedule is
 * re-based on the present instead of bursting out the whole backlog. Only timing is re-based, never content:
 * the bytes stay contiguous.
 */
final class ChunkSchedule {

    private final long chunkNanos;
    private final long maxLagNanos;
    private long nextDueNanos;

    ChunkSchedule(long startNanos, long chunkNanos, long maxLagNanos) {
        if (chunkNanos <= 0) {
            throw new IllegalArgumentException("chunk duration must be positive, but was " + chunkNanos + "ns");
        }
        if (maxLagNanos < 0) {
            throw new IllegalArgumentException("maximum lag must not be negative, but was " + maxLagNanos + "ns");
        }
        this.chunkNanos = chunkNanos;
        this.maxLagNanos = maxLagNanos;
        this.nextDueNanos = startNanos;
    }

    /** When the next chunk is due; the first chunk is due at the start. */
    long nextDueNanos() {
        return nextDueNanos;
    }

    /** Whether the next chunk is due at {@code nowNanos}. */
    boolean isDue(long nowNanos) {
        return nowNanos - nextDueNanos >= 0;
    }

    /** Records that the chunk due at {@link #nextDueNanos()} was sent at {@code nowNanos}. */
    void chunkSent(long nowNanos) {
        nextDueNanos += chunkNanos;
        if (nowNanos - nextDueNanos > maxLagNanos) {
            nextDueNanos = nowNanos;
        }
    }
}
