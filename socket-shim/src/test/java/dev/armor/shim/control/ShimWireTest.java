package dev.armor.shim.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.shim.control.ShimMessage.Ack;
import dev.armor.shim.control.ShimMessage.BindQuery;
import dev.armor.shim.control.ShimMessage.ConnectionKind;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Direct;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.Heartbeat;
import dev.armor.shim.control.ShimMessage.HeartbeatAck;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Listening;
import dev.armor.shim.control.ShimMessage.NoPeer;
import dev.armor.shim.control.ShimMessage.Ok;
import dev.armor.shim.control.ShimMessage.Peer;
import dev.armor.shim.control.ShimMessage.PeerNotice;
import dev.armor.shim.control.ShimMessage.PeerQuery;
import dev.armor.shim.control.ShimMessage.Ping;
import dev.armor.shim.control.ShimMessage.Pong;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Unlistened;
import dev.armor.shim.control.ShimMessage.Via;
import dev.armor.shim.control.ShimMessage.Welcome;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ShimWireTest {

  static Stream<ShimMessage> everyMessage() {
    InetSocketAddress v4 = new InetSocketAddress("10.0.0.7", 5432);
    InetSocketAddress v6 = new InetSocketAddress("2001:db8::1", 65535);
    return Stream.of(
        new Hello(ConnectionKind.SESSION, 4242L, "armor-1", "node-a"),
        new Hello(ConnectionKind.REQUEST, Long.MAX_VALUE, "", "ñødé"),
        new Hello(ConnectionKind.PEERS, 1L, "armor-2", "node-b"),
        new PeerNotice(50000, v4), new PeerNotice(0, v6),
        new Pong(-1), new RouteQuery(v4), new RouteQuery(v6), new BindQuery(new InetSocketAddress("0.0.0.0", 80)),
        new Listening(v6, 40000), new Unlistened(v4), new PeerQuery(65535), new Welcome(), new Ping(7),
        new Direct(), new Via(1), new Fail("no server for orders"), new Ok(), new Peer(v6), new NoPeer(), new Ack(),
        new DaemonError("boom"), new Heartbeat(1), new HeartbeatAck(Long.MAX_VALUE));
  }

  @ParameterizedTest
  @MethodSource("everyMessage")
  void encodeThenDecode_givesTheSameMessage(ShimMessage message) throws Exception {
    ByteBuffer frame = ShimWire.encode(message);

    assertThat(frame.getInt(0)).isEqualTo(frame.remaining() - 4);
    assertThat(ShimWire.decode(body(frame))).isEqualTo(message);
  }

  @Test
  void frameReader_reassemblesFramesDeliveredAByteAtATime() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    List<ShimMessage> sent = List.of(new Ping(1), new RouteQuery(new InetSocketAddress("127.0.0.1", 9)), new Ok());
    for (ShimMessage message : sent) {
      stream.write(ShimWire.encode(message).array());
    }
    ReadableByteChannel trickle = new OneByteAtATime(stream.toByteArray());
    FrameReader reader = new FrameReader();

    List<ShimMessage> received = new java.util.ArrayList<>();
    while (received.size() < sent.size()) {
      ShimMessage message = reader.read(trickle);
      if (message != null) {
        received.add(message);
      }
    }

    assertThat(received).isEqualTo(sent);
    assertThatThrownBy(() -> reader.read(trickle)).isExactlyInstanceOf(EOFException.class);
  }

  @Test
  void decode_rejectsUnknownTypesTrailingBytesAndShortBodies() {
    assertThatThrownBy(() -> ShimWire.decode(new byte[] {0x7F})).isInstanceOf(ShimProtocolException.class)
        .hasMessageContaining("unknown frame type 0x7f");
    byte[] ok = body(ShimWire.encode(new Ok()));
    assertThatThrownBy(() -> ShimWire.decode(Arrays.copyOf(ok, ok.length + 1))).isInstanceOf(ShimProtocolException.class)
        .hasMessageContaining("trailing");
    byte[] via = body(ShimWire.encode(new Via(80)));
    assertThatThrownBy(() -> ShimWire.decode(Arrays.copyOf(via, via.length - 1))).isInstanceOf(ShimProtocolException.class)
        .hasMessageContaining("too short");
    assertThatThrownBy(() -> ShimWire.decode(new byte[0])).isInstanceOf(ShimProtocolException.class);
  }

  @Test
  void decode_rejectsAHelloWithAnotherMagicOrVersion() {
    byte[] hello = body(ShimWire.encode(new Hello(ConnectionKind.SESSION, 1, "", "")));
    byte[] badMagic = hello.clone();
    badMagic[1] = 0;
    byte[] badVersion = hello.clone();
    badVersion[5] = 9;

    assertThatThrownBy(() -> ShimWire.decode(badMagic)).hasMessageContaining("magic");
    assertThatThrownBy(() -> ShimWire.decode(badVersion)).hasMessageContaining("version must be " + ShimWire.VERSION + ", but was 9");
  }

  @Test
  void frameReader_rejectsABadLengthAndAStreamCutInsideAFrame() {
    ByteBuffer tooLong = ByteBuffer.allocate(4).putInt(0, ShimWire.MAX_BODY_LENGTH + 1);
    assertThatThrownBy(() -> new FrameReader().read(Channels.newChannel(new java.io.ByteArrayInputStream(tooLong.array()))))
        .isInstanceOf(ShimProtocolException.class).hasMessageContaining("frame length must be in [1, 65536]");
    byte[] cut = Arrays.copyOf(ShimWire.encode(new Ping(3)).array(), 7);
    assertThatThrownBy(() -> new FrameReader().read(Channels.newChannel(new java.io.ByteArrayInputStream(cut))))
        .isInstanceOf(ShimProtocolException.class).hasMessageContaining("inside a frame");
  }

  @Test
  void longFailureMessages_areCutToFitAFrame() throws Exception {
    String huge = "x".repeat(100_000);

    ShimMessage decoded = ShimWire.decode(body(ShimWire.encode(new Fail(huge))));

    assertThat(((Fail) decoded).message()).hasSize(ShimWire.MAX_MESSAGE_CHARS + 3).endsWith("...");
  }

  private static byte[] body(ByteBuffer frame) {
    return Arrays.copyOfRange(frame.array(), 4, frame.limit());
  }

  /** A non-blocking-like channel that yields one byte per read, and 0 on every other read. */
  private static final class OneByteAtATime implements ReadableByteChannel {
    private final byte[] bytes;
    private int position;
    private boolean starve;

    OneByteAtATime(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read(ByteBuffer target) {
      if (position == bytes.length) {
        return -1;
      }
      starve = !starve;
      if (starve) {
        return 0;
      }
      target.put(bytes[position++]);
      return 1;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
