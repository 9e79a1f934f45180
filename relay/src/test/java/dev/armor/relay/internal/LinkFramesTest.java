package dev.armor.relay.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.internal.LinkFrames.Abort;
import dev.armor.relay.internal.LinkFrames.Ack;
import dev.armor.relay.internal.LinkFrames.AppEnd;
import dev.armor.relay.internal.LinkFrames.AbortReason;
import dev.armor.relay.internal.LinkFrames.Fin;
import dev.armor.relay.internal.LinkFrames.Frame;
import dev.armor.relay.internal.LinkFrames.Open;
import dev.armor.relay.internal.LinkFrames.Opened;
import dev.armor.relay.internal.LinkFrames.RefusalReason;
import dev.armor.relay.internal.LinkFrames.Refused;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinkFramesTest {

  private static final Open OPEN =
      new Open(
          LinkFrames.VERSION,
          3,
          "n1-17",
          new ServiceAddress("127.0.0.2", 7000),
          new InetSocketAddress("127.0.0.1", 50122));

  @Test
  void shouldDecodeEveryFrameWhateverTheReadBoundaries() {
    ByteBuf stream = Unpooled.buffer();
    List<Frame> controls =
        List.of(
            OPEN,
            Opened.RELAYED,
            new Opened(new InetSocketAddress("127.0.0.1", 41234)),
            new Refused(RefusalReason.NOT_EXPOSED, "service not exposed here"),
            Fin.INSTANCE,
            new Abort(AbortReason.SERVER_LOST, "server app died"),
            new Abort(AbortReason.SERVER_LOST_UNANSWERED, "server app died with a request in flight"),
            new Open(
                LinkFrames.VERSION,
                4,
                "n1-18",
                new ServiceAddress("127.0.0.2", 7000),
                new InetSocketAddress("::1", 50123),
                RecoveryPolicy.REPLAY,
                true,
                (1L << 40) + 5,
                null),
            new Open(
                LinkFrames.VERSION,
                1,
                "n1-19",
                new ServiceAddress("127.0.0.2", 7000),
                new InetSocketAddress("127.0.0.1", 50124),
                RecoveryPolicy.RECONNECT,
                false,
                0,
                new InetSocketAddress("127.0.0.3", 40001)),
            new Open(
                LinkFrames.RELAYED_VERSION,
                1,
                "n1-20",
                new ServiceAddress("127.0.0.2", 7000),
                new InetSocketAddress("127.0.0.1", 50125),
                RecoveryPolicy.RECONNECT,
                false,
                0,
                null),
            new AppEnd(false, false, "end of stream"),
            new AppEnd(false, true, "end of stream"),
            new AppEnd(true, false, "Connection reset by peer"),
            new Ack((1L << 33) + 7));
    for (Frame frame : controls) {
      ByteBuf encoded = LinkFrames.encode(ByteBufAllocator.DEFAULT, frame);
      stream.writeBytes(encoded);
      encoded.release();
      stream.writeByte(LinkFrames.DATA).writeInt(5).writeBytes("hello".getBytes(UTF_8));
    }
    stream.writeByte(LinkFrames.DATA).writeInt(0); // empty DATA: nothing comes out
    byte[] bytes = new byte[stream.readableBytes()];
    stream.readBytes(bytes);

    for (int chunk = 1; chunk <= bytes.length; chunk++) {
      EmbeddedChannel channel = new EmbeddedChannel(new LinkFrameDecoder());
      for (int i = 0; i < bytes.length; i += chunk) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(chunk, bytes.length - i)));
      }
      List<Frame> frames = new ArrayList<>();
      ByteArrayOutputStream data = new ByteArrayOutputStream();
      for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
        if (msg instanceof ByteBuf buf) {
          byte[] part = new byte[buf.readableBytes()];
          buf.readBytes(part);
          buf.release();
          data.writeBytes(part);
        } else {
          frames.add((Frame) msg);
        }
      }
      assertThat(frames).as("chunk size %d", chunk).isEqualTo(controls);
      assertThat(data.toString(UTF_8)).isEqualTo("hello".repeat(controls.size()));
      assertThat(channel.finish()).isFalse();
    }
  }

  @Test
  void shouldStillDecodeAVersion1OpenAsReconnect() {
    Open v1 = new Open(1, 2, "n1-3", new ServiceAddress("127.0.0.2", 7000), new InetSocketAddress("127.0.0.1", 5));
    ByteBuf encoded = LinkFrames.encode(ByteBufAllocator.DEFAULT, v1); // version 1: no policy fields
    EmbeddedChannel channel = new EmbeddedChannel(new LinkFrameDecoder());
    channel.writeInbound(encoded);
    Open decoded = channel.readInbound();
    assertThat(decoded).isEqualTo(v1);
    assertThat(decoded.policy()).isEqualTo(RecoveryPolicy.RECONNECT);
    assertThat(decoded.replay()).isFalse();
  }

  @Test
  void shouldPassDataOnWithoutCopying() {
    EmbeddedChannel channel = new EmbeddedChannel(new LinkFrameDecoder());
    ByteBuf in = Unpooled.buffer();
    in.writeByte(LinkFrames.DATA).writeInt(3).writeBytes(new byte[] {1, 2, 3});
    channel.writeInbound(in);
    ByteBuf out = channel.readInbound();
    assertThat(out.unwrap()).isSameAs(in); // a slice of the inbound buffer
    out.release();
    assertThat(in.refCnt()).isZero();
  }

  @Test
  void shouldWriteAnAppBufferWithHeadroomAsOneFrameInPlace() {
    EmbeddedChannel link = new EmbeddedChannel();
    ByteBuf read = new HeadroomRecvByteBufAllocator().newHandle().allocate(ByteBufAllocator.DEFAULT);
    read.writeBytes("hello".getBytes(UTF_8)); // what a read from the app socket leaves

    LinkFrames.writeAppData(link, read);
    link.flush();

    ByteBuf frame = link.readOutbound();
    assertThat(frame).isSameAs(read); // no header buffer: the header went into the headroom
    assertThat(link.<Object>readOutbound()).isNull();
    EmbeddedChannel decoder = new EmbeddedChannel(new LinkFrameDecoder());
    decoder.writeInbound(frame);
    ByteBuf payload = decoder.readInbound();
    assertThat(payload.toString(UTF_8)).isEqualTo("hello");
    payload.release();
    assertThat(read.refCnt()).isZero();
  }

  @Test
  void shouldWriteABufferWithoutHeadroomWithASeparateHeader() {
    EmbeddedChannel link = new EmbeddedChannel();
    ByteBuf slice = Unpooled.copiedBuffer("xxxxxhello", UTF_8).retainedSlice(5, 5); // bytes before it are data

    LinkFrames.writeAppData(link, slice);
    link.flush();

    ByteBuf header = link.readOutbound();
    ByteBuf payload = link.readOutbound();
    assertThat(header.readableBytes()).isEqualTo(LinkFrames.HEADER_LENGTH);
    assertThat(payload.toString(UTF_8)).isEqualTo("hello");
    assertThat(payload.unwrap().toString(0, 5, UTF_8)).isEqualTo("xxxxx"); // untouched
    header.release();
    payload.release();
  }

  @Test
  void shouldReadAfterTheHeadroomAndSizeAsNettyWould() {
    io.netty.channel.RecvByteBufAllocator.Handle handle = new HeadroomRecvByteBufAllocator().newHandle();
    handle.reset(new EmbeddedChannel().config());
    ByteBuf buf = handle.allocate(ByteBufAllocator.DEFAULT);
    assertThat(buf.readerIndex()).isEqualTo(LinkFrames.HEADER_LENGTH);
    assertThat(buf.writerIndex()).isEqualTo(LinkFrames.HEADER_LENGTH);
    assertThat(buf.writableBytes()).isEqualTo(handle.guess()); // the read size Netty's sizing asked for
    buf.release();
  }

  @Test
  void shouldRejectMalformedInput() {
    EmbeddedChannel unknownType = new EmbeddedChannel(new LinkFrameDecoder());
    assertThatThrownBy(() -> unknownType.writeInbound(Unpooled.wrappedBuffer(new byte[] {9, 0, 0, 0, 0})))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("unknown frame type 9");

    EmbeddedChannel tooLong = new EmbeddedChannel(new LinkFrameDecoder());
    ByteBuf huge = Unpooled.buffer().writeByte(LinkFrames.ABORT).writeInt(1 << 20);
    assertThatThrownBy(() -> tooLong.writeInbound(huge))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("exceeds");

    EmbeddedChannel truncatedOpen = new EmbeddedChannel(new LinkFrameDecoder());
    ByteBuf open = Unpooled.buffer().writeByte(LinkFrames.OPEN).writeInt(2).writeByte(1).writeByte(0);
    assertThatThrownBy(() -> truncatedOpen.writeInbound(open))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("malformed");
  }
}
