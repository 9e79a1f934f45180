package dev.armor.relay.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.armor.relay.RelayConfig;
import dev.armor.relay.RelayListener;
import dev.armor.relay.Relays;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The whole server side of an accepted link on any bytes, in any split, as a peer daemon (or anything that reached a
 * data port past the handshake) may send them: the sniffer, then either a dedicated link's decoder and handler, or,
 * after the HTTP/2 client preface, a shared connection's HTTP/2 codec with its abuse limits, its streams each a link
 * with its own decoder and handler ({@link SharedLinks#serve}). Whatever arrives, nothing escapes the pipeline as an
 * exception (a refusal closes the link or the connection), and every buffer is released (Netty's paranoid leak
 * detector, which the relay's tests run with, reports any that is not).
 */
class LinkPathFuzzTest {

  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** One relay for the whole run: what the handlers ask of it (exposures, refusal logs) is what a daemon's does. */
  private static final class Holder {
    static final NettyRelay RELAY =
        (NettyRelay) Relays.start(RelayConfig.defaults("fuzz", "127.0.0.1"), RelayListener.NONE);
  }

  /** An accepted TCP connection's channel, from a peer at an address (the handlers log and refuse by it). */
  private static final class AcceptedLink extends EmbeddedChannel {
    @Override
    protected SocketAddress remoteAddress0() {
      return new InetSocketAddress("127.0.0.9", 40_000);
    }
  }

  @FuzzTest(maxDuration = "5s")
  void theServerSideOfALinkTakesAnyBytesInAnySplit(FuzzedDataProvider data) {
    NettyRelay relay = Holder.RELAY;
    EmbeddedChannel link = new AcceptedLink();
    link.pipeline().addLast(new LinkProtocolSniffer(relay), new LinkFrameDecoder(), new ServerLinkHandler(relay));
    try {
      if (data.consumeBoolean()) {
        link.writeInbound(Unpooled.wrappedBuffer(PREFACE)); // a shared connection: HTTP/2 from here on
      }
      while (data.remainingBytes() > 0 && link.isOpen()) {
        byte[] chunk = data.consumeBytes(1 + data.consumeInt(0, 4096));
        link.writeInbound(Unpooled.wrappedBuffer(chunk));
        link.runPendingTasks();
        for (Object out = link.readOutbound(); out != null; out = link.readOutbound()) {
          ReferenceCountUtil.release(out); // the answers (SETTINGS, GOAWAY, REFUSED, ...) go nowhere
        }
      }
      link.checkException(); // an exception that reached the end of the pipeline fails the run
    } finally {
      link.finishAndReleaseAll();
    }
  }
}
