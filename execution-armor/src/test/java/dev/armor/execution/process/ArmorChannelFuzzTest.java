package dev.armor.execution.process;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;

/**
 * The ARMOR channel's frame decoder (the FTM channel and the Execution ARMOR processes' channel read it from their
 * peers) on any bytes: it returns frames, ends cleanly, or refuses with a {@link ArmorChannel.MalformedFrameException}
 * (or ends inside a header); never another exception, never an allocation the input did not pay for.
 * {@code scripts/fuzz} replays the kept inputs (src/test/resources/.../ArmorChannelFuzzTestInputs) and fuzzes.
 */
class ArmorChannelFuzzTest {

  @FuzzTest(maxDuration = "5s")
  void decodeTakesAnyBytes(byte[] input) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(input));
    try {
      while (ArmorChannel.decode(in) != null) {
        continue;
      }
    } catch (ArmorChannel.MalformedFrameException | EOFException refused) {
      // said what was wrong, or the stream ended inside a header: what a peer's garbage must come to
    }
  }
}
