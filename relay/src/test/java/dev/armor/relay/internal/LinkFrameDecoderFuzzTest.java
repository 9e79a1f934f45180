package dev.armor.relay.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;

/**
 * A link's frame decoder on any bytes, in any split (a peer daemon's bytes, or anything that reached a data port):
 * it passes frames on or refuses with {@link CorruptedFrameException} (the link handler closes the link); never
 * another exception. Buffers are counted: a leak fails the run under Netty's paranoid leak detector.
 */
class LinkFrameDecoderFuzzTest {

  @FuzzTest(maxDuration = "5s")
  void decoderTakesAnyBytesInAnySplit(FuzzedDataProvider data) {
    EmbeddedChannel link = new EmbeddedChannel(new LinkFrameDecoder());
    try {
      while (data.remainingBytes() > 0 && link.isOpen()) {
        byte[] chunk = data.consumeBytes(1 + data.consumeInt(0, 4096));
        link.writeInbound(Unpooled.wrappedBuffer(chunk));
        for (Object frame = link.readInbound(); frame != null; frame = link.readInbound()) {
          ReferenceCountUtil.release(frame);
        }
      }
    } catch (CorruptedFrameException refused) {
      // what the link handler closes the link for
    } finally {
      link.finishAndReleaseAll();
    }
  }

}
