package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavFileSinkTest {

    @TempDir
    Path dir;

    /** Asserts a canonical 8-bit mono PCM header and returns its data size. */
    static long assertValidHeader(Path wav, int rate) throws IOException {
        byte[] file = Files.readAllBytes(wav);
        assertThat(file.length).isGreaterThanOrEqualTo(WavFileSink.HEADER_BYTES);
        ByteBuffer h = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(file, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("RIFF");
        assertThat(h.getInt(4)).isEqualTo(file.length - 8);
        assertThat(new String(file, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WAVE");
        assertThat(new String(file, 12, 4, StandardCharsets.US_ASCII)).isEqualTo("fmt ");
        assertThat(h.getInt(16)).isEqualTo(16);
        assertThat(h.getShort(20)).as("PCM").isEqualTo((short) 1);
        assertThat(h.getShort(22)).as("channels").isEqualTo((short) 1);
        assertThat(h.getInt(24)).as("sample rate").isEqualTo(rate);
        assertThat(h.getInt(28)).as("byte rate").isEqualTo(rate);
        assertThat(h.getShort(32)).as("block align").isEqualTo((short) 1);
        assertThat(h.getShort(34)).as("bits").isEqualTo((short) 8);
        assertThat(new String(file, 36, 4, StandardCharsets.US_ASCII)).isEqualTo("data");
        assertThat(h.getInt(40)).isEqualTo(file.length - WavFileSink.HEADER_BYTES);
        return h.getInt(40) & 0xFFFF_FFFFL;
    }

    @Test
    void close_fixesUpTheSizes() throws IOException {
        Path wav = dir.resolve("a.wav");
        byte[] chunk = new byte[400];
        new Melody(8000).fill(chunk, 0, chunk.length, 0);
        try (WavFileSink sink = new WavFileSink(wav, 8000)) {
            for (int i = 0; i < 5; i++) {
                sink.write(chunk, 0, chunk.length);
            }
        }
        assertThat(assertValidHeader(wav, 8000)).isEqualTo(2000);
        byte[] file = Files.readAllBytes(wav);
        assertThat(file[WavFileSink.HEADER_BYTES]).isEqualTo(chunk[0]);
    }

    @Test
    void headerIsValidEverySecondOfAudio_evenBeforeClose() throws IOException {
        Path wav = dir.resolve("sub/b.wav");
        try (WavFileSink sink = new WavFileSink(wav, 8000)) {
            assertThat(assertValidHeader(wav, 8000)).isZero();
            sink.write(new byte[8000], 0, 8000);
            assertThat(assertValidHeader(wav, 8000)).isEqualTo(8000);
        }
    }
}
