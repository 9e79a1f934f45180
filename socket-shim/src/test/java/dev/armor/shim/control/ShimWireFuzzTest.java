package dev.armor.shim.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;

/**
 * The shim socket's wire protocol on any bytes (a process of the daemon's user can write anything to the socket):
 * the frame reader and the body decoder return messages or refuse with {@link ShimProtocolException} (or end between
 * frames); never another exception.
 */
class ShimWireFuzzTest {

  @FuzzTest(maxDuration = "5s")
  void frameReaderTakesAnyBytes(byte[] input) throws IOException {
    ReadableByteChannel channel = Channels.newChannel(new ByteArrayInputStream(input));
    FrameReader reader = new FrameReader();
    try {
      while (true) {
        reader.read(channel);
      }
    } catch (ShimProtocolException | EOFException refused) {
      // a bad frame said so, or the stream ended between frames
    }
  }
}
