package dev.armor.demo.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes the stream as a canonical 44-byte-header PCM WAV file (8-bit unsigned mono).
 *
 * <p>The header's two size fields are fixed up on {@link #close()}, and also after every second of audio, so
 * that the file is valid even if the client is killed without a chance to close it.
 */
final class WavFileSink implements AudioSink {

    static final int HEADER_BYTES = 44;

    private final Path path;
    private final FileChannel channel;
    private final int sampleRate;
    private long dataBytes;
    private long headerWrittenFor = -1;

    WavFileSink(Path path, int sampleRate) throws IOException {
        this.path = path;
        this.sampleRate = sampleRate;
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            java.nio.file.Files.createDirectories(parent);
        }
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        writeHeader();
        channel.position(HEADER_BYTES);
    }

    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(data, offset, length);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        dataBytes += length;
        if (dataBytes - headerWrittenFor >= sampleRate) {
            writeHeader();
        }
    }

    @Override
    public String describe() {
        return "writing WAV to " + path.toAbsolutePath();
    }

    long dataBytes() {
        return dataBytes;
    }

    @Override
    public void close() throws IOException {
        try (channel) {
            writeHeader();
            channel.force(false);
        }
    }

    private void writeHeader() throws IOException {
        long data = Math.min(dataBytes, 0xFFFF_FFFFL - 36);
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.put("RIFF".getBytes(StandardCharsets.US_ASCII));
        h.putInt((int) (36 + data));
        h.put("WAVE".getBytes(StandardCharsets.US_ASCII));
        h.put("fmt ".getBytes(StandardCharsets.US_ASCII));
        h.putInt(16);                 // fmt chunk size
        h.putShort((short) 1);        // PCM
        h.putShort((short) 1);        // mono
        h.putInt(sampleRate);
        h.putInt(sampleRate);         // byte rate = rate * channels * bytes per sample
        h.putShort((short) 1);        // block align
        h.putShort((short) 8);        // bits per sample (8-bit WAV is unsigned by definition)
        h.put("data".getBytes(StandardCharsets.US_ASCII));
        h.putInt((int) data);
        h.flip();
        long at = 0;
        while (h.hasRemaining()) {
            at += channel.write(h, at);
        }
        headerWrittenFor = dataBytes;
    }
}
