package dev.armor.demo.audio;

import java.io.Closeable;
import java.io.IOException;

/** Where the client puts the audio it receives: the sound device or a WAV file. */
interface AudioSink extends Closeable {

    /** Takes received bytes; must not block for long (it runs on the reading thread). */
    void write(byte[] data, int offset, int length) throws IOException;

    /** For the human-readable log line, e.g. "writing WAV to /tmp/a.wav". */
    String describe();
}
