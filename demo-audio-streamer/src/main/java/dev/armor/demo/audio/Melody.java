package dev.armor.demo.audio;

/**
 * The PCM the servers stream: a looping melody of sine notes, 8-bit unsigned mono.
 *
 * <p>Design note: the whole loop is computed once, with {@link StrictMath} so that every JVM (and so every
 * replica of a server) produces bit-identical samples; byte {@code n} of a stream is therefore
 * {@code sampleAt(n)}, independent of timing. Clients use this to verify that a stream continued with neither
 * loss nor duplication. The melody is the opening of Beethoven's "Ode to Joy" (public domain), two beats a
 * second, with short attack and release ramps so that notes do not click.
 */
final class Melody {

    private static final double C4 = 261.63;
    private static final double D4 = 293.66;
    private static final double E4 = 329.63;
    private static final double F4 = 349.23;
    private static final double G4 = 392.00;

    /** Pairs of (frequency in Hz, length in beats). */
    private static final double[][] NOTES = {
        {E4, 1}, {E4, 1}, {F4, 1}, {G4, 1}, {G4, 1}, {F4, 1}, {E4, 1}, {D4, 1},
        {C4, 1}, {C4, 1}, {D4, 1}, {E4, 1}, {E4, 1.5}, {D4, 0.5}, {D4, 2},
        {E4, 1}, {E4, 1}, {F4, 1}, {G4, 1}, {G4, 1}, {F4, 1}, {E4, 1}, {D4, 1},
        {C4, 1}, {C4, 1}, {D4, 1}, {E4, 1}, {D4, 1.5}, {C4, 0.5}, {C4, 2},
    };

    private static final double BEAT_SECONDS = 0.25;
    private static final double ATTACK_SECONDS = 0.005;
    private static final double RELEASE_SECONDS = 0.02;
    private static final double AMPLITUDE = 90.0;

    private final int sampleRate;
    private final byte[] loop;

    Melody(int sampleRate) {
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sample rate must be positive, but was " + sampleRate);
        }
        this.sampleRate = sampleRate;
        this.loop = render(sampleRate);
    }

    int sampleRate() {
        return sampleRate;
    }

    /** Length of one loop of the melody, in samples (= bytes). */
    int loopLength() {
        return loop.length;
    }

    /** The unsigned sample (0..255) at stream offset {@code index}. */
    int sampleAt(long index) {
        return loop[(int) Math.floorMod(index, (long) loop.length)] & 0xFF;
    }

    /** Writes the {@code length} bytes of the stream that start at {@code streamOffset} into {@code dst}. */
    void fill(byte[] dst, int offset, int length, long streamOffset) {
        int pos = (int) Math.floorMod(streamOffset, (long) loop.length);
        int done = 0;
        while (done < length) {
            int n = Math.min(length - done, loop.length - pos);
            System.arraycopy(loop, pos, dst, offset + done, n);
            done += n;
            pos = 0;
        }
    }

    private static byte[] render(int rate) {
        int total = 0;
        for (double[] note : NOTES) {
            total += samplesFor(note[1] * BEAT_SECONDS, rate);
        }
        byte[] out = new byte[total];
        int pos = 0;
        for (double[] note : NOTES) {
            int n = samplesFor(note[1] * BEAT_SECONDS, rate);
            renderNote(out, pos, n, note[0], rate);
            pos += n;
        }
        return out;
    }

    private static void renderNote(byte[] out, int start, int n, double frequency, int rate) {
        double attack = Math.max(1, ATTACK_SECONDS * rate);
        double release = Math.max(1, RELEASE_SECONDS * rate);
        for (int i = 0; i < n; i++) {
            double envelope = Math.min(1.0, Math.min(i / attack, (n - 1 - i) / release));
            double value = AMPLITUDE * envelope * StrictMath.sin(2 * StrictMath.PI * frequency * i / rate);
            int sample = 128 + (int) StrictMath.round(value);
            out[start + i] = (byte) Math.max(0, Math.min(255, sample));
        }
    }

    private static int samplesFor(double seconds, int rate) {
        return Math.max(1, (int) Math.round(seconds * rate));
    }
}
