package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The delivered-bytes digest: any chunking gives the same checks; a difference is located within one interval. */
class StreamDigestTest {

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Feeds {@code data} in random chunks, half of them direct buffers. */
  private static void feed(StreamDigest digest, byte[] data, Random random) {
    for (int i = 0; i < data.length; ) {
      int n = Math.min(data.length - i, 1 + random.nextInt(300));
      ByteBuf buf = random.nextBoolean() ? Unpooled.wrappedBuffer(data, i, n) : Unpooled.directBuffer(n);
      if (buf.isDirect()) {
        buf.writeBytes(data, i, n);
      }
      digest.update(buf);
      buf.release();
      i += n;
    }
  }

  /** Checks {@code other} against the digest in random chunks: -1 or the mismatch offset. */
  private static long check(StreamDigest digest, byte[] other, Random random) {
    StreamDigest.Verifier verifier = digest.verifier();
    for (int i = 0; verifier.remaining() > 0; ) {
      int n = (int) Math.min(verifier.remaining(), 1 + random.nextInt(300));
      long mismatch = verifier.check(Unpooled.wrappedBuffer(other), i, n);
      if (mismatch >= 0) {
        return mismatch;
      }
      i += n;
    }
    return -1;
  }

  @Test
  void shouldMatchTheSameBytesWhateverTheChunking() {
    Random random = new Random(1);
    byte[] data = bytes(10_000, 7);
    StreamDigest digest = new StreamDigest(256, 8); // coarsened several times: 10000 / 256 > 8
    feed(digest, data, random);
    assertThat(digest.position()).isEqualTo(10_000);
    assertThat(digest.interval()).isGreaterThan(256);
    assertThat(check(digest, data, random)).isEqualTo(-1);
  }

  @Test
  void shouldLocateADifferenceWithinOneInterval() {
    Random random = new Random(2);
    byte[] data = bytes(5_000, 7);
    StreamDigest digest = new StreamDigest(256, 64);
    feed(digest, data, random);
    for (int at : new int[] {0, 255, 256, 1000, 4999}) {
      byte[] other = data.clone();
      other[at] ^= 1;
      long mismatch = check(digest, other, random);
      assertThat(mismatch).as("difference at %d", at).isEqualTo(at / 256 * 256L);
    }
  }
}
