package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The delivered-bytes digest: any chunking gives the same checks; a difference is exact within the kept bytes, and
 * past them located between two checkpoints (every interval, and every mark).
 */
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
    return check(digest.verifier(), other, random);
  }

  private static long check(StreamDigest.Verifier verifier, byte[] other, Random random) {
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

  @Test
  void aMarkIsACheckpointSoADifferenceIsToldApartBetweenTurns() {
    Random random = new Random(3);
    byte[] data = bytes(5_000, 7);
    StreamDigest digest = new StreamDigest(4096, 64);
    ByteBuf all = Unpooled.wrappedBuffer(data);
    digest.update(all.slice(0, 100)); // an answer of 100 bytes, then the client spoke
    digest.mark();
    digest.update(all.slice(100, 150));
    digest.mark();
    digest.mark(); // twice at one position: one checkpoint
    digest.update(all.slice(250, data.length - 250));
    byte[] other = data.clone();
    other[180] ^= 1;
    assertThat(check(digest, other, random)).isEqualTo(100); // within the second turn [100, 250)
    other = data.clone();
    other[99] ^= 1;
    assertThat(check(digest, other, random)).isEqualTo(0);
  }

  @Test
  void withinTheKeptBytesTheFirstDifferingByteIsExact_pastThemARangeIs() {
    Random random = new Random(4);
    byte[] data = bytes(300_000, 7);
    StreamDigest digest = new StreamDigest(ByteBufAllocator.DEFAULT, 100_000);
    feed(digest, data, random);
    assertThat(digest.keptBytes()).isEqualTo(100_000);
    for (int at : new int[] {0, 1, 12_345, 99_999}) {
      byte[] other = data.clone();
      other[at] ^= 1;
      StreamDigest.Verifier verifier = digest.verifier();
      long mismatch = check(verifier, other, random);
      assertThat(mismatch).isEqualTo(at);
      assertThat(verifier.isExact(mismatch)).isTrue();
    }
    byte[] other = data.clone();
    other[200_000] ^= 1;
    StreamDigest.Verifier verifier = digest.verifier();
    long mismatch = check(verifier, other, random);
    assertThat(verifier.isExact(mismatch)).isFalse();
    assertThat(mismatch).isEqualTo(196_608); // the checkpoint before it: 3 intervals of 64 KiB
    assertThat(verifier.rangeEnd(mismatch)).isEqualTo(262_144);
    assertThat(check(digest, data, random)).isEqualTo(-1);
    digest.release();
  }
}
