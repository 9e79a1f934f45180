/**
 * A small, deliberately ordinary TCP audio streaming application: the "unmodified app" that Armor protects.
 * It uses nothing but the JDK and knows nothing of Armor.
 *
 * <p>Start with {@link dev.armor.demo.audio.AudioServer} (blocking {@code ServerSocket}, one thread per
 * client) or {@link dev.armor.demo.audio.NioAudioServer} (one thread, a {@code Selector}, non-blocking
 * channels); both stream the same raw PCM (8-bit unsigned mono, 8 kHz by default, about 8 KB/s) paced in real
 * time. Byte {@code n} of every connection's stream is a pure function of {@code n} (see {@code Melody}), so a
 * client can check that a stream continued without loss or duplication. The pacing follows the client's
 * playback: the client reports its playback position ({@code PLAYED <n>} lines, every 100 ms) and the server
 * keeps at most a second of audio ahead of it; only a client that never reports is paced by the server's clock.
 * So both the bytes and the timing of a stream follow from what its connection sent, and a fresh server instance
 * fed a connection's whole input again (Armor's replay recovery) catches up at once. {@link dev.armor.demo.audio.AudioClient}
 * connects once (it never reconnects: that would hide exactly the failures Armor must mask), plays or records
 * the stream, and measures its continuity (gaps, playback-buffer underruns); with {@code --events} it prints
 * machine-readable {@code EVENT}, {@code STATS} and {@code SUMMARY} lines, documented on that class.
 *
 * <pre>
 * java -cp armor-demo-audio-streamer.jar dev.armor.demo.audio.AudioServer --port 7000
 * java -cp armor-demo-audio-streamer.jar dev.armor.demo.audio.NioAudioServer --port 7001
 * java -cp armor-demo-audio-streamer.jar dev.armor.demo.audio.AudioClient --host 127.0.0.1 --port 7000 \
 *      --seconds 10 --events --verify --out /tmp/a.wav
 * </pre>
 */
package dev.armor.demo.audio;
