package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.demo.audio.ContinuityMeter.Event;
import dev.armor.demo.audio.ContinuityMeter.FirstData;
import dev.armor.demo.audio.ContinuityMeter.GapStart;
import dev.armor.demo.audio.ContinuityMeter.Resumed;
import dev.armor.demo.audio.ContinuityMeter.Underrun;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Drives the meter with made-up times: 400-byte chunks every 50 ms is exactly 8000 bytes a second. */
class ContinuityMeterTest {

    private static final long MS = 1_000_000L;

    private final List<Event> events = new ArrayList<>();
    private final ContinuityMeter meter = new ContinuityMeter(8000, 150 * MS, 200 * MS, events::add);

    /** Chunks at from, from+50, ... up to and including to; ticks every 10 ms in between. */
    private void stream(long fromMs, long toMs) {
        for (long t = fromMs; t <= toMs; t += 10) {
            meter.onTick(t * MS);
            if ((t - fromMs) % 50 == 0) {
                meter.onData(400, t * MS);
            }
        }
    }

    private void silence(long fromMs, long toMs) {
        for (long t = fromMs; t <= toMs; t += 10) {
            meter.onTick(t * MS);
        }
    }

    @Test
    void steadyStream_hasNoGapsAndNoUnderruns() {
        stream(0, 2_000);
        ContinuityMeter.Snapshot s = meter.snapshot(2_000 * MS);
        assertThat(events).containsExactly(new FirstData(0));
        assertThat(s.bytes()).isEqualTo(41 * 400);
        assertThat(s.underruns()).isZero();
        assertThat(s.gaps()).isZero();
        assertThat(s.longestGapNanos()).isEqualTo(50 * MS);
    }

    @Test
    void pause400ms_reportsOneGapOneUnderrunAndTheResume() {
        stream(0, 450);          // 10 chunks = 4000 bytes; playback starts at 150 ms with 1600 bytes buffered
        silence(460, 840);
        stream(850, 1_500);

        // Playback started at 150 ms; 4000 bytes last 500 ms, so the buffer runs dry at 650 ms.
        assertThat(events).containsExactly(
                new FirstData(0),
                new GapStart(600 * MS, 450 * MS),
                new Underrun(650 * MS),
                new Resumed(850 * MS, 400 * MS));
        ContinuityMeter.Snapshot s = meter.snapshot(1_500 * MS);
        assertThat(s.gaps()).isEqualTo(1);
        assertThat(s.underruns()).isEqualTo(1);
        assertThat(s.longestGapNanos()).isEqualTo(400 * MS);
    }

    @Test
    void playedBytes_isZeroUntilTheBufferFills_thenRealTime_andNeverPastWhatCame() {
        meter.onData(800, 0);
        assertThat(meter.playedBytes(100 * MS)).isZero();  // 100 ms buffered, 200 ms needed
        meter.onData(800, 100 * MS);                       // 1600 bytes: playback starts at 100 ms
        assertThat(meter.playedBytes(100 * MS)).isZero();
        assertThat(meter.playedBytes(150 * MS)).isEqualTo(400);
        assertThat(meter.playedBytes(300 * MS)).isEqualTo(1600);
        assertThat(meter.playedBytes(900 * MS)).as("not past the bytes received").isEqualTo(1600);
        meter.onTick(900 * MS);                            // the underrun: playback waits for the buffer again
        assertThat(events).contains(new Underrun(300 * MS));
        meter.onData(1600, 1_000 * MS);
        assertThat(meter.playedBytes(1_100 * MS)).isEqualTo(2400);
    }

    @Test
    void gapNotSeenByATick_isStillReportedBeforeTheResume() {
        meter.onData(400, 0);
        meter.onData(400, 300 * MS);
        assertThat(events).containsExactly(new FirstData(0), new GapStart(150 * MS, 0), new Resumed(300 * MS, 300 * MS));
    }

    @Test
    void silenceBelowTheThreshold_isNoGap() {
        meter.onData(400, 0);
        silence(10, 150);
        meter.onData(400, 150 * MS);
        assertThat(events).containsExactly(new FirstData(0));
    }

    @Test
    void snapshot_countsTheSilenceStillRunning_butNotTheWaitForTheFirstByte() {
        silence(0, 500);
        assertThat(meter.snapshot(500 * MS).longestGapNanos()).isZero();
        meter.onData(400, 500 * MS);
        silence(510, 1_500);
        assertThat(meter.snapshot(1_500 * MS).longestGapNanos()).isEqualTo(1_000 * MS);
        assertThat(meter.snapshot(1_500 * MS).gaps()).isEqualTo(1);
    }
}
