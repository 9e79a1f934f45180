package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Http2FramesTest {

  private static final int DATA = 0x0;
  private static final int SETTINGS = 0x4;

  private final Http2Frames frames = new Http2Frames();

  private static byte[] frame(int type, int flags, int streamId, int payloadLength) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payloadLength);
    frame.put((byte) (payloadLength >>> 16)).put((byte) (payloadLength >>> 8)).put((byte) payloadLength);
    frame.put((byte) type).put((byte) flags).putInt(streamId);
    for (int i = 0; i < payloadLength; i++) {
      frame.put((byte) i);
    }
    return frame.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** Passes {@code bytes} in pieces of {@code piece} bytes, as reads would. */
  private static void inPieces(byte[] bytes, int piece, java.util.function.Consumer<ByteBuf> to) {
    for (int at = 0; at < bytes.length; at += piece) {
      ByteBuf buf = Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, Math.min(bytes.length, at + piece)));
      to.accept(buf);
      assertThat(buf.readerIndex()).as("the bytes are only looked at").isZero();
    }
  }

  @Test
  void aLossAfterWholeFrames_isAGoAwayNamingTheHighestStreamTheLostInstanceWasHanded() {
    byte[] client = concat(Http2Frames.PREFACE, frame(SETTINGS, 0, 0, 12), frame(Http2Frames.TYPE_HEADERS, 4, 1, 40),
        frame(DATA, 1, 1, 300), frame(Http2Frames.TYPE_HEADERS, 4, 3, 20), frame(DATA, 0, 3, 70_000));
    byte[] server = concat(frame(SETTINGS, 0, 0, 18), frame(SETTINGS, 1, 0, 0), frame(Http2Frames.TYPE_HEADERS, 4, 1, 30),
        frame(DATA, 0, 1, 5000));
    for (int piece : new int[] {1, 5, 9, 100, 100_000}) {
      Http2Frames connection = new Http2Frames();
      inPieces(client, piece, connection::clientSent);
      inPieces(server, piece, connection::serverSent);
      assertThat(connection.isHttp2()).isTrue();
      Http2Frames.AtLoss atLoss = connection.atLoss();
      assertThat(atLoss).as("pieces of %d bytes", piece).isInstanceOf(Http2Frames.GoAway.class);
      assertThat(((Http2Frames.GoAway) atLoss).lastStreamId()).isEqualTo(3);
    }
  }

  @Test
  void theGoAwayFrame_isWellFormed() {
    inPieces(concat(Http2Frames.PREFACE, frame(Http2Frames.TYPE_HEADERS, 4, 7, 10)), 64, frames::clientSent);
    inPieces(frame(SETTINGS, 0, 0, 6), 64, frames::serverSent);
    byte[] goAway = ((Http2Frames.GoAway) frames.atLoss()).frame();
    ByteBuffer in = ByteBuffer.wrap(goAway);
    int length = (in.get() & 0xff) << 16 | (in.get() & 0xff) << 8 | in.get() & 0xff;
    assertThat(length).isEqualTo(goAway.length - 9);
    assertThat(in.get()).as("type").isEqualTo((byte) Http2Frames.TYPE_GOAWAY);
    assertThat(in.get()).as("flags").isZero();
    assertThat(in.getInt()).as("stream id: the connection").isZero();
    assertThat(in.getInt()).as("last stream id").isEqualTo(7);
    assertThat(in.getInt()).as("error code").isEqualTo(Http2Frames.NO_ERROR);
    byte[] debug = new byte[in.remaining()];
    in.get(debug);
    assertThat(new String(debug, StandardCharsets.UTF_8)).contains("armor", "above 7");
  }

  @Test
  void streamsTheClientOpensOnlyAfterTheLoss_areAboveTheLastStreamId() {
    inPieces(concat(Http2Frames.PREFACE, frame(SETTINGS, 0, 0, 0)), 64, frames::clientSent);
    inPieces(frame(SETTINGS, 0, 0, 0), 64, frames::serverSent);
    // nothing of stream 1 went to the server: the relay held it (not passed to clientSent)
    assertThat(((Http2Frames.GoAway) frames.atLoss()).lastStreamId()).isZero();
  }

  @Test
  void aServerCutInTheMiddleOfAFrame_cannotBeEndedWithAGoAway() {
    inPieces(concat(Http2Frames.PREFACE, frame(Http2Frames.TYPE_HEADERS, 4, 1, 10)), 64, frames::clientSent);
    byte[] server = concat(frame(SETTINGS, 0, 0, 6), frame(DATA, 0, 1, 100));
    inPieces(Arrays.copyOf(server, server.length - 1), 64, frames::serverSent);
    assertThat(frames.atLoss()).isInstanceOf(Http2Frames.Unhidable.class);

    Http2Frames halfHeader = new Http2Frames();
    inPieces(Http2Frames.PREFACE, 64, halfHeader::clientSent);
    inPieces(Arrays.copyOf(concat(frame(SETTINGS, 0, 0, 6), frame(DATA, 0, 1, 0)), 19), 64, halfHeader::serverSent);
    assertThat(halfHeader.atLoss()).isInstanceOf(Http2Frames.Unhidable.class);
  }

  @Test
  void aServerThatHadNotSentItsSettings_cannotBeEndedWithAGoAway() {
    inPieces(Http2Frames.PREFACE, 64, frames::clientSent);
    assertThat(frames.atLoss()).isInstanceOf(Http2Frames.Unhidable.class);
  }

  @Test
  void otherProtocols_areNotHttp2() {
    inPieces("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 3, frames::clientSent);
    assertThat(frames.isHttp2()).isFalse();
    assertThat(frames.atLoss()).isInstanceOf(Http2Frames.NotHttp2.class);

    Http2Frames almost = new Http2Frames(); // "PRI * HTTP/2.0" then something else
    inPieces("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 2, almost::clientSent);
    assertThat(almost.atLoss()).isInstanceOf(Http2Frames.NotHttp2.class);

    Http2Frames serverFirst = new Http2Frames();
    inPieces("SSH-2.0-x\r\n".getBytes(StandardCharsets.US_ASCII), 64, serverFirst::serverSent);
    inPieces(Http2Frames.PREFACE, 64, serverFirst::clientSent);
    assertThat(serverFirst.atLoss()).isInstanceOf(Http2Frames.NotHttp2.class);
  }
}
