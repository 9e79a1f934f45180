package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The replay log keeps every byte up to its bound, replays them all as DATA frames, and can be replayed again. */
class ReplayLogTest {

  @Test
  void shouldReplayEverythingAppendedAndRefuseWhatWouldPassTheBound() {
    ReplayLog log = new ReplayLog(ByteBufAllocator.DEFAULT, 200_000);
    byte[] data = new byte[150_000];
    new Random(3).nextBytes(data);
    Random random = new Random(4);
    for (int i = 0; i < data.length; ) {
      int n = Math.min(data.length - i, 1 + random.nextInt(5000));
      ByteBuf buf = Unpooled.wrappedBuffer(data, i, n);
      assertThat(log.append(buf)).isTrue();
      assertThat(buf.readableBytes()).isEqualTo(n); // the app's buffer still goes to the link whole
      buf.release();
      i += n;
    }
    assertThat(log.append(Unpooled.wrappedBuffer(new byte[60_000]))).isFalse();
    assertThat(log.size()).isEqualTo(data.length);

    for (int replay = 0; replay < 2; replay++) {
      EmbeddedChannel link = new EmbeddedChannel();
      log.writeTo(link);
      link.flush();
      assertThat(payloads(link)).isEqualTo(data);
      link.finishAndReleaseAll();
    }
    log.release();
    assertThat(log.size()).isZero();
  }

  /** The DATA payloads written on {@code link}, headers checked and stripped. */
  private static byte[] payloads(EmbeddedChannel link) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int expect = -1;
    for (Object msg = link.readOutbound(); msg != null; msg = link.readOutbound()) {
      ByteBuf buf = (ByteBuf) msg;
      if (expect < 0) {
        assertThat(buf.readByte()).isEqualTo(LinkFrames.DATA);
        expect = buf.readInt();
      } else {
        assertThat(buf.readableBytes()).isEqualTo(expect);
        byte[] part = new byte[expect];
        buf.readBytes(part);
        out.writeBytes(part);
        expect = -1;
      }
      buf.release();
    }
    return out.toByteArray();
  }
}
