package dev.armor.relay.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.RelayConfig.LinkMode;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.Pattern;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Multiplexed links (RelayConfig links=multiplexed), with one event loop per relay so that every connection's link is
 * a stream of the same shared TCP connection: many connections over one connection, one link's stalled reader not
 * stalling another link, and the shared connection's loss acting on every link as a lost dedicated link does.
 */
@Timeout(value = 60, unit = SECONDS)
class MultiplexedLinksTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7300);

  private RelayPair pair;
  private TestServer app;

  private RelayPair pair() {
    pair = new RelayPair(c -> c.withIoThreads(1).withLinks(LinkMode.MULTIPLEXED));
    return pair;
  }

  @AfterEach
  void tearDown() throws IOException {
    if (app != null) {
      app.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  private NettyRelay clientRelay() {
    return (NettyRelay) pair.client;
  }

  private Channel linkOf(Socket clientApp) {
    String id = pair.clientSide(clientApp).orElseThrow().id();
    return clientRelay().clientConnection(id).orElseThrow().currentLink();
  }

  @Test
  void manyConnectionsShareOneTcpConnection() throws Exception {
    pair();
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    List<Socket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        Socket client = pair.connect(SERVICE);
        clients.add(client);
        client.getOutputStream().write(new byte[] {(byte) i});
        assertThat(client.getInputStream().read()).isEqualTo(i & 0xFF);
      }
      Set<Channel> tcpConnections = new HashSet<>();
      for (Socket client : clients) {
        Channel link = linkOf(client);
        assertThat(link).isInstanceOf(Http2StreamChannel.class);
        tcpConnections.add(link.parent());
      }
      assertThat(tcpConnections).hasSize(1);
      assertThat(clientRelay().sharedLinks().connectionsOpened()).isEqualTo(1);
      assertThat(clientRelay().sharedLinks().linksOpened()).isEqualTo(200);
      assertThat(pair.server.connections()).filteredOn(c -> c.state() == State.ATTACHED).hasSize(200);
      // every link still carries its own connection's bytes
      for (int i = 0; i < clients.size(); i++) {
        clients.get(i).getOutputStream().write(new byte[] {(byte) (i + 1), (byte) (i + 2)});
      }
      for (int i = 0; i < clients.size(); i++) {
        InputStream in = clients.get(i).getInputStream();
        assertThat(in.readNBytes(2)).containsExactly((byte) (i + 1), (byte) (i + 2));
      }
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
    // closed links end their streams; the shared connection stays for the next ones
    await().atMost(20, SECONDS).until(() -> pair.client.connections().isEmpty() && pair.server.connections().isEmpty());
    assertThat(clientRelay().sharedLinks().connections()).hasSize(1);
  }

  @Test
  void aStalledReaderDoesNotStallAnotherLinkOnTheSameConnection() throws Exception {
    long size = 64L << 20;
    pair();
    AtomicLong stalledDownloadWritten = new AtomicLong();
    app =
        TestServer.start(
            (socket, in, out) -> {
              int kind = in.read();
              if (kind == 'S') {
                Pattern.write(out, size, stalledDownloadWritten); // blocks once the stalled link's window is full
              } else {
                Pattern.write(out, size, null);
                socket.shutdownOutput();
              }
            });
    pair.expose(SERVICE, app);
    try (Socket stalled = pair.connect(SERVICE);
        Socket busy = pair.connect(SERVICE)) {
      stalled.getOutputStream().write('S');
      // the stalled client reads nothing: its server's download backs up into its link's window and stops
      await().atMost(20, SECONDS).until(() -> stalledDownloadWritten.get() > 0);
      assertThat(linkOf(stalled).parent()).isSameAs(linkOf(busy).parent());
      busy.getOutputStream().write('B');
      assertThat(Pattern.verify(busy.getInputStream(), null)).isEqualTo(size);
      assertThat(stalledDownloadWritten.get()).isLessThan(size);
      // and the stalled one gets its whole download once it reads
      CompletableFuture<Long> rest =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return Pattern.verify(stalled.getInputStream(), null);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      assertThat(rest.get(30, SECONDS)).isEqualTo(size); // the server app closes after writing it all
    }
  }

  @Test
  void losingTheSharedConnectionHoldsEveryClientLikeALostLink() throws Exception {
    pair();
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    List<Socket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        Socket client = pair.connect(SERVICE);
        clients.add(client);
        client.getOutputStream().write('a');
        assertThat(client.getInputStream().read()).isEqualTo('a');
      }
      Channel shared = linkOf(clients.get(0)).parent();
      Set<String> ids = new HashSet<>();
      for (Socket client : clients) {
        ids.add(pair.clientSide(client).orElseThrow().id());
      }

      Transport.reset(shared); // the TCP connection dies under every link on it

      // every client side held (not closed), and re-attached on a new shared connection; every app socket open
      await()
          .atMost(20, SECONDS)
          .until(
              () ->
                  ids.stream()
                      .allMatch(
                          id ->
                              pair.clientEvents.events.stream()
                                  .anyMatch(e -> e.kind().equals("held") && e.connectionId().equals(id))));
      assertThat(pair.clientEvents.events).noneMatch(e -> e.kind().equals("closed"));
      await()
          .atMost(20, SECONDS)
          .until(
              () ->
                  pair.client.connections().stream()
                      .filter(c -> c.side() == Side.CLIENT)
                      .allMatch(c -> c.state() == State.ATTACHED && c.reattachments() == 1));
      // the server side reset its app connections of the lost links (the echo server's sockets saw it)
      assertThat(pair.serverEvents.events)
          .filteredOn(e -> e.kind().equals("closed"))
          .hasSize(20)
          .allMatch(e -> e.reason().contains("server app connection reset"));
      for (Socket client : clients) {
        OutputStream out = client.getOutputStream();
        out.write('b');
        assertThat(client.getInputStream().read()).isEqualTo('b');
      }
      assertThat(clientRelay().sharedLinks().connectionsOpened()).isEqualTo(2);
      List<ConnectionInfo> held = List.copyOf(pair.client.connections());
      assertThat(held).hasSize(20);
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
  }
}
