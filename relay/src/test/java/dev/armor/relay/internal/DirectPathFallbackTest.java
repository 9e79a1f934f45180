package dev.armor.relay.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.Relay;
import dev.armor.relay.RelayConfig;
import dev.armor.relay.Relays;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RecordingListener;
import dev.armor.relay.testkit.TestConfigs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client side asking for the direct path meets a server's daemon of a version before it (a mixed cluster during an
 * upgrade): the refused version 3 OPEN must not hold the connection; it goes relayed, with the OPEN such a daemon
 * understands.
 */
class DirectPathFallbackTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7300);

  private Relay client;
  private ServerSocket oldDaemon;
  private final List<Integer> openVersions = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() throws IOException {
    if (client != null) {
      client.close();
    }
    if (oldDaemon != null) {
      oldDaemon.close();
    }
  }

  @Test
  void aDaemonThatRefusesTheDirectOpenGetsTheConnectionRelayed() throws Exception {
    oldDaemon = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.3"));
    Thread daemon = new Thread(this::serveLinksAsAVersion2Daemon, "old-daemon");
    daemon.setDaemon(true);
    daemon.start();
    client =
        Relays.start(
            TestConfigs.defaults("n1", "127.0.0.2")
                .withLinks(RelayConfig.LinkMode.DEDICATED)
                .withDataPath(RelayConfig.DataPath.DIRECT),
            new RecordingListener());
    int port = client.openServiceListener(SERVICE);
    client.serviceLocated(SERVICE, (InetSocketAddress) oldDaemon.getLocalSocketAddress(), RecoveryPolicy.RECONNECT);

    try (Socket app = new Socket("127.0.0.1", port)) {
      app.setSoTimeout(10_000); // held for good (the bug this guards against): a timeout, not a hung build
      app.getOutputStream().write("ping".getBytes(UTF_8));
      assertThat(new String(app.getInputStream().readNBytes(4), UTF_8)).isEqualTo("ping");
      assertThat(openVersions).containsExactly(LinkFrames.VERSION, LinkFrames.RELAYED_VERSION);
      assertThat(client.connections().get(0).direct()).isFalse();
    }
  }

  /** Like a daemon before the direct path: refuses an OPEN above version 2, else answers OPENED and echoes DATA. */
  private void serveLinksAsAVersion2Daemon() {
    while (!oldDaemon.isClosed()) {
      try (Socket link = oldDaemon.accept()) {
        DataInputStream in = new DataInputStream(link.getInputStream());
        OutputStream out = link.getOutputStream();
        int version = ((LinkFrames.Open) readControl(in)).version();
        openVersions.add(version);
        if (version > LinkFrames.RELAYED_VERSION) {
          write(out, new LinkFrames.Refused(LinkFrames.RefusalReason.BAD_OPEN, "link protocol version 3 not supported"));
          continue;
        }
        write(out, LinkFrames.Opened.RELAYED);
        while (true) {
          byte type = in.readByte();
          byte[] body = new byte[in.readInt()];
          in.readFully(body);
          if (type == LinkFrames.DATA) {
            ByteBuf frame = Unpooled.buffer().writeByte(LinkFrames.DATA).writeInt(body.length).writeBytes(body);
            out.write(frame.array(), frame.arrayOffset(), frame.readableBytes());
          }
        }
      } catch (IOException e) {
        // link or listener closed
      }
    }
  }

  private static LinkFrames.Frame readControl(DataInputStream in) throws IOException {
    byte type = in.readByte();
    byte[] body = new byte[in.readInt()];
    in.readFully(body);
    return LinkFrames.decode(type, Unpooled.wrappedBuffer(body));
  }

  private static void write(OutputStream out, LinkFrames.Frame frame) throws IOException {
    ByteBuf encoded = LinkFrames.encode(ByteBufAllocator.DEFAULT, frame);
    try {
      byte[] bytes = new byte[encoded.readableBytes()];
      encoded.readBytes(bytes);
      out.write(bytes);
    } finally {
      encoded.release();
    }
  }
}
