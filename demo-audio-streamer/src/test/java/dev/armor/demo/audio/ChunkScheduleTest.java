package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ChunkScheduleTest {

    private static final long MS = 1_000_000L;

    @Test
    void firstChunk_isDueAtStart_andLaterOnesOnAnAbsoluteGrid() {
        ChunkSchedule schedule = new ChunkSchedule(1_000 * MS, 50 * MS, 1_000 * MS);
        assertThat(schedule.isDue(1_000 * MS)).isTrue();
        schedule.chunkSent(1_000 * MS);
        assertThat(schedule.nextDueNanos()).isEqualTo(1_050 * MS);
        assertThat(schedule.isDue(1_049 * MS)).isFalse();
    }

    @Test
    void lateChunks_doNotDrift() {
        ChunkSchedule schedule = new ChunkSchedule(0, 50 * MS, 1_000 * MS);
        for (int k = 0; k < 100; k++) {
            schedule.chunkSent(k * 50 * MS + 7 * MS); // every send 7 ms late
        }
        assertThat(schedule.nextDueNanos()).isEqualTo(100 * 50 * MS);
    }

    @Test
    void fallingBehindMoreThanMaxLag_rebasesOnNow() {
        ChunkSchedule schedule = new ChunkSchedule(0, 50 * MS, 1_000 * MS);
        schedule.chunkSent(5_000 * MS); // stalled for 5 s
        assertThat(schedule.nextDueNanos()).isEqualTo(5_000 * MS);
        schedule.chunkSent(5_000 * MS);
        assertThat(schedule.nextDueNanos()).isEqualTo(5_050 * MS);
    }

    @Test
    void fallingBehindLessThanMaxLag_catchesUp() {
        ChunkSchedule schedule = new ChunkSchedule(0, 50 * MS, 1_000 * MS);
        schedule.chunkSent(500 * MS);
        assertThat(schedule.nextDueNanos()).isEqualTo(50 * MS);
    }
}
