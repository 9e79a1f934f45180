package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The replay log keeps every byte up to its bound, replays any range of them as DATA frames (again and again), tells
 * which part a new instance has earned by its output (gates), and finds the first byte another stream differs at.
 */
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

    for (int replay = 0; replay < 3; replay++) {
      // in two parts split anywhere (within a chunk, at a chunk's edge, at the ends): the same bytes, in order
      long split = replay == 0 ? 0 : replay == 1 ? data.length : random.nextInt(data.length);
      EmbeddedChannel link = new EmbeddedChannel();
      log.writeTo(link, 0, split);
      log.writeTo(link, split, log.size());
      link.flush();
      assertThat(payloads(link)).isEqualTo(data);
      link.finishAndReleaseAll();
    }
    log.release();
    assertThat(log.size()).isZero();
  }

  @Test
  void aTurnIsReleasedOnlyOnceTheOutputThatPrecededItIsReproduced() {
    ReplayLog log = new ReplayLog(ByteBufAllocator.DEFAULT, 1000);
    log.append(Unpooled.wrappedBuffer(new byte[10])); // the client spoke first: 10 bytes before any output
    log.gate(100); // then it had seen 100 bytes of output
    log.append(Unpooled.wrappedBuffer(new byte[5]));
    log.gate(100); // no new output: no new turn
    log.append(Unpooled.wrappedBuffer(new byte[3]));
    log.gate(250);
    log.gate(300); // more output arrived before the client spoke again: the turn waits for all of it
    log.append(Unpooled.wrappedBuffer(new byte[7]));

    assertThat(log.releasableUpTo(0)).isEqualTo(10);
    assertThat(log.releasableUpTo(99)).isEqualTo(10);
    assertThat(log.releasableUpTo(100)).isEqualTo(18);
    assertThat(log.releasableUpTo(250)).isEqualTo(18);
    assertThat(log.releasableUpTo(300)).isEqualTo(25);
    assertThat(log.lastGatedOutput()).isEqualTo(300);
    log.release();
  }

  @Test
  void pastTheGateBoundTurnsMergeSoTheyAreReleasedSoonerNeverLater() {
    ReplayLog log = new ReplayLog(ByteBufAllocator.DEFAULT, 1 << 20);
    int turns = ReplayLog.MAX_GATES * 3;
    for (int turn = 1; turn <= turns; turn++) {
      log.gate(turn * 10L);
      log.append(Unpooled.wrappedBuffer(new byte[2]));
    }
    for (int turn = 0; turn <= ReplayLog.PACED_TURNS; turn++) {
      long exact = Math.min(2L * turn, log.size()); // what an unbounded record would release after `turn`
      assertThat(log.releasableUpTo(turn * 10L)).isGreaterThanOrEqualTo(exact).isLessThanOrEqualTo(log.size());
    }
    assertThat(log.releasableUpTo(turns * 10L)).isEqualTo(log.size());
    log.release();
  }

  @Test
  void onlyTheFirstTurnsArePaced_thenTheRestGoesAtOnce() {
    ReplayLog log = new ReplayLog(ByteBufAllocator.DEFAULT, 1 << 20);
    for (int turn = 1; turn <= ReplayLog.PACED_TURNS + 10; turn++) {
      log.gate(turn * 10L);
      log.append(Unpooled.wrappedBuffer(new byte[2]));
    }
    assertThat(log.releasableUpTo(0)).isZero();
    assertThat(log.releasableUpTo(10L * (ReplayLog.PACED_TURNS - 1))).isEqualTo(2L * (ReplayLog.PACED_TURNS - 1));
    assertThat(log.releasableUpTo(10L * ReplayLog.PACED_TURNS - 1)).isEqualTo(2L * (ReplayLog.PACED_TURNS - 1));
    assertThat(log.releasableUpTo(10L * ReplayLog.PACED_TURNS)).isEqualTo(log.size());
    log.release();
  }

  @Test
  void findsTheFirstByteAnotherStreamDiffersAt() {
    ReplayLog log = new ReplayLog(ByteBufAllocator.DEFAULT, 200_000);
    byte[] data = new byte[100_000];
    new Random(5).nextBytes(data);
    log.append(Unpooled.wrappedBuffer(data));
    byte[] other = data.clone();
    assertThat(log.firstDifference(0, Unpooled.wrappedBuffer(other), 0, other.length)).isEqualTo(-1);
    for (int at : new int[] {0, 4095, 4096, 70_000, 99_999}) {
      other = data.clone();
      other[at] ^= 0x10;
      assertThat(log.firstDifference(0, Unpooled.wrappedBuffer(other), 0, other.length)).isEqualTo(at);
      // compared from an offset, as a verifier does buffer by buffer
      assertThat(log.firstDifference(at, Unpooled.wrappedBuffer(other), at, other.length - at)).isEqualTo(at);
    }
    log.release();
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
