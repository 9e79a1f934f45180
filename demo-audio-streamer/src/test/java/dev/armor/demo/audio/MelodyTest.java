package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MelodyTest {

    @Test
    void loop_isEightSecondsAt8kHz() {
        assertThat(new Melody(8000).loopLength()).isEqualTo(64_000);
    }

    @Test
    void samples_areIdenticalAcrossInstances_andSwingAroundTheMidpoint() {
        Melody a = new Melody(8000);
        Melody b = new Melody(8000);
        int min = 255;
        int max = 0;
        for (int i = 0; i < a.loopLength(); i++) {
            assertThat(a.sampleAt(i)).isEqualTo(b.sampleAt(i));
            min = Math.min(min, a.sampleAt(i));
            max = Math.max(max, a.sampleAt(i));
        }
        assertThat(min).isBetween(0, 60);
        assertThat(max).isBetween(196, 255);
        assertThat(a.sampleAt(0)).as("notes start silent, no click").isEqualTo(128);
    }

    @Test
    void fill_acrossTheLoopBoundary_matchesSampleAt() {
        Melody melody = new Melody(8000);
        long start = 3L * melody.loopLength() - 100;
        byte[] chunk = new byte[400];
        melody.fill(chunk, 0, chunk.length, start);
        for (int i = 0; i < chunk.length; i++) {
            assertThat(chunk[i] & 0xFF).isEqualTo(melody.sampleAt(start + i));
        }
    }
}
