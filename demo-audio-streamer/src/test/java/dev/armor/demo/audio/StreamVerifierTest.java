package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StreamVerifierTest {

    private final Melody melody = new Melody(8000);

    @Test
    void theServersStream_hasNoMismatches() {
        StreamVerifier verifier = new StreamVerifier(melody);
        byte[] chunk = new byte[400];
        for (long offset = 0; offset < 100_000; offset += chunk.length) {
            melody.fill(chunk, 0, chunk.length, offset);
            assertThat(verifier.check(chunk, chunk.length)).isEqualTo(-1);
        }
        assertThat(verifier.mismatches()).isZero();
    }

    @Test
    void aStreamThatRestartsFromZero_isReportedOnceAtTheOffsetWhereItWentWrong() {
        StreamVerifier verifier = new StreamVerifier(melody);
        byte[] chunk = new byte[400];
        melody.fill(chunk, 0, chunk.length, 0);
        verifier.check(chunk, chunk.length);
        verifier.check(chunk, chunk.length);  // offset 400 gets the bytes of offset 0 again: a naive reconnect
        long first = verifier.mismatches();
        assertThat(first).isPositive();

        StreamVerifier fresh = new StreamVerifier(melody);
        fresh.check(chunk, chunk.length);
        long reportedAt = fresh.check(chunk, chunk.length);
        assertThat(reportedAt).isBetween(400L, 799L);
        assertThat(fresh.check(chunk, chunk.length)).as("same run of wrong reads: reported once").isEqualTo(-1);
    }
}
