package dev.armor.demo.audio;

import java.util.Optional;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.DataLine;
import javax.sound.sampled.LineUnavailableException;
import javax.sound.sampled.SourceDataLine;

/**
 * Plays the stream on the sound device through {@code javax.sound.sampled}, when there is a usable line
 * (headless machines usually have none; the client then writes a WAV file instead).
 *
 * <p>The line gets a half-second buffer and is never written more than it can take without blocking: the
 * reading thread must not stall, or the client's own gap measurements would be distorted. Bytes that do not fit
 * (a burst after a stall) are dropped and counted.
 */
final class SoundLineSink implements AudioSink {

    private final SourceDataLine line;
    private long dropped;

    private SoundLineSink(SourceDataLine line) {
        this.line = line;
    }

    /** A sink on the default sound device, or empty if there is no usable line. */
    static Optional<SoundLineSink> open(int sampleRate) {
        try {
            AudioFormat format = new AudioFormat(sampleRate, 8, 1, false, false);
            DataLine.Info info = new DataLine.Info(SourceDataLine.class, format);
            if (!AudioSystem.isLineSupported(info)) {
                return Optional.empty();
            }
            SourceDataLine line = (SourceDataLine) AudioSystem.getLine(info);
            line.open(format, Math.max(1, sampleRate / 2));
            line.start();
            return Optional.of(new SoundLineSink(line));
        } catch (LineUnavailableException | IllegalArgumentException | SecurityException | LinkageError e) {
            return Optional.empty();
        }
    }

    @Override
    public void write(byte[] data, int offset, int length) {
        int fits = Math.min(length, line.available());
        if (fits > 0) {
            line.write(data, offset, fits);
        }
        dropped += length - fits;
    }

    @Override
    public String describe() {
        return "playing to the sound device";
    }

    @Override
    public void close() {
        line.drain();
        line.close();
        if (dropped > 0) {
            System.err.println("AudioClient: dropped " + dropped + " bytes that did not fit the sound line");
        }
    }
}
