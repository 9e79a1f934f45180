package dev.armor.relay.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Links between daemons carry kernel TCP keepalive (and, with epoll, a user timeout), so that a link to a vanished
 * node is noticed without the FTM; the app's own loopback socket does not.
 */
@Timeout(value = 30, unit = SECONDS)
class LinkKeepaliveTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7110);

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void linksKeepAliveAsConfigured(boolean nativeTransport) throws Exception {
    try (RelayPair pair =
            new RelayPair(c -> c.withNativeTransport(nativeTransport).withLinkKeepalive(Duration.ofSeconds(6)));
        TestServer app = TestServer.echo()) {
      pair.expose(SERVICE, app);
      try (Socket client = pair.connect(SERVICE)) {
        client.getOutputStream().write('x');
        assertThat(client.getInputStream().read()).isEqualTo('x');
        String id = pair.clientSide(client).orElseThrow().id();
        Channel stream = ((NettyRelay) pair.client).clientConnection(id).orElseThrow().currentLink();
        Channel link = stream.parent() != null ? stream.parent() : stream; // a multiplexed link: its shared connection
        assertThat(link.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
        if (link instanceof EpollSocketChannel) {
          assertThat(link.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(6);
          assertThat(link.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(2);
          assertThat(link.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(3);
          assertThat(link.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(12_000);
        }
      }
    }
  }

  @Test
  void keepaliveCanBeTurnedOff() throws Exception {
    try (RelayPair pair = new RelayPair(c -> c.withLinkKeepalive(Duration.ZERO));
        TestServer app = TestServer.echo()) {
      pair.expose(SERVICE, app);
      try (Socket client = pair.connect(SERVICE)) {
        client.getOutputStream().write('x');
        assertThat(client.getInputStream().read()).isEqualTo('x');
        String id = pair.clientSide(client).orElseThrow().id();
        Channel stream = ((NettyRelay) pair.client).clientConnection(id).orElseThrow().currentLink();
        Channel link = stream.parent() != null ? stream.parent() : stream; // a multiplexed link: its shared connection
        assertThat(link.config().getOption(ChannelOption.SO_KEEPALIVE)).isFalse();
      }
    }
  }
}
