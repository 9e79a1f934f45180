package dev.armor.relay.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 20: a connect to a port nobody listens on can connect the socket to itself (its source port drawn equal to
 * the destination, then TCP's simultaneous open). Forced here by binding the socket to the destination's port
 * before connecting, in the two shapes the relay connects in: a bootstrap's fresh channel (the links to other
 * daemons: a connection's own link, the spare links, the shared multiplexed connections) and a channel that was
 * registered and bound first (the server side's socket to its app, the client side's direct path to the app). On
 * both transports the relay runs on.
 */
@Timeout(value = 30, unit = SECONDS)
class SelfConnectionsTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private Transport transport;

  @AfterEach
  void shutDown() {
    if (transport != null) {
      transport.shutdown();
    }
  }

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void aBootstrapConnectThatMeetsItsOwnSocketIsRefusedAndClosed(boolean preferNative) throws IOException {
    transport = Transport.create("self-connect-test", preferNative, 1);
    InetSocketAddress nobody = new InetSocketAddress(LOOPBACK, freePort());
    Counting handler = new Counting();

    ChannelFuture connect =
        SelfConnections.connect(bootstrap().handler(handler).localAddress(nobody), nobody);

    assertRefused(connect, nobody, handler);
  }

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void aBoundChannelsConnectThatMeetsItsOwnSocketIsRefusedAndClosed(boolean preferNative) throws IOException {
    transport = Transport.create("self-connect-test", preferNative, 1);
    InetSocketAddress nobody = new InetSocketAddress(LOOPBACK, freePort());
    Counting handler = new Counting();
    Channel channel = bootstrap().handler(handler).register().syncUninterruptibly().channel();
    channel.bind(nobody).syncUninterruptibly();

    ChannelFuture connect = SelfConnections.connect(channel, nobody);

    assertRefused(connect, nobody, handler);
  }

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void aConnectToAListenerSucceedsAndTheChannelIsActiveWithoutTheGuard(boolean preferNative) throws IOException {
    transport = Transport.create("self-connect-test", preferNative, 1);
    try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
      Counting handler = new Counting();

      ChannelFuture connect =
          SelfConnections.connect(bootstrap().handler(handler), listener.getLocalSocketAddress());

      assertThat(connect.awaitUninterruptibly(10, SECONDS)).isTrue();
      assertThat(connect.isSuccess()).as("%s", connect.cause()).isTrue();
      Channel channel = connect.channel();
      assertThat(SelfConnections.isSelfConnection(channel)).isFalse();
      channel.eventLoop().submit(() -> null).syncUninterruptibly(); // channelActive runs right after the promise
      assertThat(handler.active.get()).isEqualTo(1);
      assertThat(channel.pipeline().names()).noneMatch(name -> name.startsWith("armor-refuse-self"));
      channel.close().syncUninterruptibly();
    }
  }

  private Bootstrap bootstrap() {
    return new Bootstrap()
        .group(transport.workers())
        .channel(transport.channelClass())
        .option(ChannelOption.SO_REUSEADDR, true);
  }

  private static void assertRefused(ChannelFuture connect, InetSocketAddress nobody, Counting handler) {
    assertThat(connect.awaitUninterruptibly(10, SECONDS)).isTrue();
    assertThat(connect.isSuccess()).as("a connection of the socket to itself must not count as connected").isFalse();
    assertThat(connect.cause())
        .isInstanceOf(ConnectException.class)
        .hasMessageStartingWith("Connection refused: ")
        .hasMessageContaining(String.valueOf(nobody.getPort()))
        .hasMessageEndingWith("(the connect met its own socket: nobody listens there)");
    connect.channel().closeFuture().awaitUninterruptibly(10, SECONDS);
    assertThat(connect.channel().isOpen()).isFalse();
    assertThat(handler.active.get()).as("the pipeline never sees the self-connection active").isZero();
  }

  /** A port that was free a moment ago: nobody listens on it. */
  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, LOOPBACK)) {
      return socket.getLocalPort();
    }
  }

  @io.netty.channel.ChannelHandler.Sharable
  private static final class Counting extends ChannelInboundHandlerAdapter {
    final AtomicInteger active = new AtomicInteger();

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      active.incrementAndGet();
      ctx.fireChannelActive();
    }
  }
}
