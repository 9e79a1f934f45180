package dev.armor.demo.audio;

/**
 * Checks a received stream byte by byte against the {@link Melody} the servers generate: byte {@code n} must be
 * {@code melody.sampleAt(n)}. A stream that lost, repeated or restarted bytes (a naive reconnect would restart
 * at offset 0) shows up as mismatches.
 */
final class StreamVerifier {

    private final Melody melody;
    private byte[] expected = new byte[0];
    private long offset;
    private long mismatches;
    private boolean inMismatchRun;

    StreamVerifier(Melody melody) {
        this.melody = melody;
    }

    /**
     * Checks the next {@code length} bytes of the stream.
     *
     * @return the stream offset of the first wrong byte if these bytes start a run of wrong reads, else -1
     */
    long check(byte[] data, int length) {
        if (expected.length < length) {
            expected = new byte[length];
        }
        melody.fill(expected, 0, length, offset);
        long firstWrong = -1;
        for (int i = 0; i < length; i++) {
            if (data[i] != expected[i]) {
                mismatches++;
                if (firstWrong < 0) {
                    firstWrong = offset + i;
                }
            }
        }
        offset += length;
        boolean startsRun = firstWrong >= 0 && !inMismatchRun;
        inMismatchRun = firstWrong >= 0;
        return startsRun ? firstWrong : -1;
    }

    long mismatches() {
        return mismatches;
    }
}
