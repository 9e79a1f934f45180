package dev.armor.execution.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ProcessEvent;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The daemon-to-ARMOR-process channel over a real Unix domain socket: framing, requests and replies, bad frames. */
class ArmorChannelTest {

  private Path directory;
  private ServerSocketChannel server;

  @BeforeEach
  void listen() throws IOException {
    directory = Files.createTempDirectory("armor-channel-");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(directory.resolve("armors.sock")));
  }

  @AfterEach
  void close() throws IOException {
    server.close();
    Files.deleteIfExists(directory.resolve("armors.sock"));
    Files.deleteIfExists(directory);
  }

  /** What one end's handler saw. */
  static final class Recorder implements ArmorChannel.Handler {
    final BlockingQueue<String> hellos = new LinkedBlockingQueue<>();
    final BlockingQueue<ArmorMessage> received = new LinkedBlockingQueue<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    Consumer<ArmorMessage> lastReply;

    @Override
    public void hello(ArmorChannel channel, String armorId, long pid) {
      hellos.add(armorId + "/" + pid);
    }

    @Override
    public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {
      if (reply != null) {
        reply.accept(message.toBuilder().clearBundles().setFrom(message.getTo()).setTo(message.getFrom())
            .setError("echo of " + message.getBundles(0).getOperations(0).getType()).build());
      }
      received.add(message);
    }

    @Override
    public void closed(ArmorChannel channel, String reason) {
      closed.complete(reason);
    }
  }

  private SocketChannel connect() throws IOException {
    SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
    socket.connect(server.getLocalAddress());
    return socket;
  }

  private static ArmorMessage event(String from) {
    return Armors.message(from, "ftm", Ops.PROCESS_EVENT, ProcessEvent.newBuilder().setPid(42).build());
  }

  @Test
  void helloSendAndRequest_arriveInOrder_andRepliesFindTheirRequester() throws Exception {
    Recorder daemonSide = new Recorder();
    Recorder armorSide = new Recorder();
    SocketChannel armorSocket = connect();
    ArmorChannel daemon = ArmorChannel.open(server.accept(), "daemon end", daemonSide);
    ArmorChannel armor = ArmorChannel.open(armorSocket, "armor end", armorSide);

    assertThat(armor.hello("exec-n1-1", 1234)).isTrue();
    assertThat(daemonSide.hellos.poll(5, TimeUnit.SECONDS)).isEqualTo("exec-n1-1/1234");
    assertThat(armor.send(event("exec-n1-1"))).isTrue();
    assertThat(daemonSide.received.poll(5, TimeUnit.SECONDS).getFrom()).isEqualTo("exec-n1-1");

    CompletableFuture<ArmorMessage> reply = new CompletableFuture<>();
    ArmorMessage request = Armors.message("daemon@n1", "exec-n1-1", Ops.DESCRIBE_PROCESS, ProcessEvent.getDefaultInstance());
    assertThat(daemon.request(request, reply::complete)).isTrue();
    ArmorMessage answer = reply.get(5, TimeUnit.SECONDS);
    assertThat(answer.getError()).isEqualTo("echo of " + Ops.DESCRIBE_PROCESS);
    assertThat(answer.getCorrelationId()).isEqualTo(request.getCorrelationId());

    armor.close();
    assertThat(daemonSide.closed.get(5, TimeUnit.SECONDS)).isEqualTo("end of stream");
    assertThat(daemon.send(event("x"))).as("a closed channel refuses to send").isFalse();
  }

  @Test
  void channelClosing_answersWaitingRequestsWithAnError() throws Exception {
    Recorder daemonSide = new Recorder();
    SocketChannel armorSocket = connect();
    ArmorChannel daemon = ArmorChannel.open(server.accept(), "ARMOR exec-n1-2", daemonSide);
    CompletableFuture<ArmorMessage> reply = new CompletableFuture<>();
    ArmorMessage request = Armors.message("daemon@n1", "exec-n1-2", Ops.DESCRIBE_PROCESS, ProcessEvent.getDefaultInstance());
    daemon.request(request, reply::complete); // the other end never answers
    armorSocket.close(); // the ARMOR process died

    ArmorMessage answer = reply.get(5, TimeUnit.SECONDS);
    assertThat(answer.getError()).contains("closed before exec-n1-2 answered"); // then "end of stream" or a reset
    assertThat(answer.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(answer.getTo()).isEqualTo("daemon@n1");
  }

  @Test
  void malformedFrame_closesOnlyThatChannel_withAClearError() throws Exception {
    Recorder badSide = new Recorder();
    Recorder goodSide = new Recorder();
    SocketChannel badSocket = connect();
    ArmorChannel.open(server.accept(), "ARMOR bad", badSide);
    SocketChannel goodSocket = connect();
    ArmorChannel.open(server.accept(), "ARMOR good", goodSide);
    ArmorChannel good = ArmorChannel.open(goodSocket, "good peer", new Recorder());

    // A frame announcing 5 bytes (less than a header), then garbage.
    badSocket.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 5, 1, 2, 3, 4, 5}));
    assertThat(badSide.closed.get(5, TimeUnit.SECONDS)).isEqualTo("malformed frame: length 5 is outside 9..16777216");
    assertThat(badSocket.read(ByteBuffer.allocate(1))).as("the daemon end closed the bad channel").isEqualTo(-1);

    assertThat(good.send(event("exec-good"))).isTrue();
    assertThat(goodSide.received.poll(5, TimeUnit.SECONDS)).as("the other channel goes on").isNotNull();
    assertThat(goodSide.closed).isNotDone();
  }

  @Test
  void decode_namesWhatIsWrongWithAFrame() throws Exception {
    assertThatThrownBy(() -> decode(frame(0x7fffffff, (byte) 2, new byte[0])))
        .isInstanceOf(ArmorChannel.MalformedFrameException.class)
        .hasMessage("malformed frame: length 2147483647 is outside 9..16777216");
    assertThatThrownBy(() -> decode(frame(9, (byte) 9, new byte[0])))
        .hasMessage("malformed frame: unknown kind 9");
    assertThatThrownBy(() -> decode(frame(9 + 3, (byte) 2, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff})))
        .hasMessageStartingWith("malformed frame: the body is not an ArmorMessage");
    assertThatThrownBy(() -> decode(frame(9 + 100, (byte) 2, new byte[] {1, 2})))
        .hasMessage("malformed frame: the stream ended inside a frame of 109 bytes");
    assertThat(decode(new byte[0])).as("a clean end between frames").isNull();

    ArmorMessage message = event("exec-n1-3");
    ByteBuffer encoded = ArmorChannel.encode(ArmorChannel.REQUEST, 77, message);
    ArmorChannel.Frame frame = decode(java.util.Arrays.copyOf(encoded.array(), encoded.limit()));
    assertThat(frame).isEqualTo(new ArmorChannel.Frame(ArmorChannel.REQUEST, 77, message));
  }

  private static ArmorChannel.Frame decode(byte[] bytes) throws IOException {
    return ArmorChannel.decode(new DataInputStream(new ByteArrayInputStream(bytes)));
  }

  private static byte[] frame(int length, byte kind, byte[] body) {
    ByteBuffer buffer = ByteBuffer.allocate(4 + 1 + 8 + body.length);
    buffer.putInt(length).put(kind).putLong(0).put(body);
    return buffer.array();
  }

}
