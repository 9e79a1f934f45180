package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.Pattern;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import dev.armor.relay.testkit.TestConfigs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two relays (client daemon on 127.0.0.2, server daemon on 127.0.0.3) between real blocking-socket apps.
 * Each test proves one behaviour a client app can observe.
 */
@Timeout(value = 30, unit = SECONDS)
class RelayTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7000);

  private RelayPair pair;
  private TestServer app;

  private RelayPair pair(boolean nativeTransport) {
    pair = new RelayPair(c -> c.withNativeTransport(nativeTransport));
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

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void shouldEchoThroughBothRelays(boolean nativeTransport) throws IOException {
    pair(nativeTransport);
    app = TestServer.echo();
    pair.expose(SERVICE, app);

    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write("hello armor".getBytes(UTF_8));
      assertThat(readExactly(client.getInputStream(), 11)).isEqualTo("hello armor");

      ConnectionInfo clientSide = pair.clientSide(client).orElseThrow();
      assertThat(clientSide.state()).isEqualTo(State.ATTACHED);
      assertThat(clientSide.id()).startsWith("n1-");
      assertThat(clientSide.bytesToServer()).isEqualTo(11);
      assertThat(clientSide.bytesToClient()).isEqualTo(11);
      // the direct path is taken when asked for, on dedicated links only (multiplexed ones mean descriptors are scarce)
      boolean direct =
          TestConfigs.dataPath() == RelayConfig.DataPath.DIRECT && TestConfigs.links() != RelayConfig.LinkMode.MULTIPLEXED;
      assertThat(clientSide.direct()).isEqualTo(direct);
      ConnectionInfo serverSide = pair.serverSide().get(0);
      assertThat(serverSide.direct()).isEqualTo(direct);
      assertThat(serverSide.id()).isEqualTo(clientSide.id());
      assertThat(serverSide.side()).isEqualTo(Side.SERVER);
      assertThat(serverSide.client()).isEqualTo(client.getLocalSocketAddress());

      // the server app's peer is a relay's socket (relayed: the server's relay's local port; direct: the client's
      // relay's own socket), which the server's relay maps back to the client, by address and by port (the shim asks
      // by port)
      InetSocketAddress appPeer = (InetSocketAddress) app.sockets().get(0).getRemoteSocketAddress();
      assertThat(appPeer.getAddress().getHostAddress()).isEqualTo(direct ? "127.0.0.2" : "127.0.0.1");
      assertThat(pair.server.clientOfPeer(appPeer)).contains((InetSocketAddress) client.getLocalSocketAddress());
      assertThat(pair.server.clientOfLocalPort(appPeer.getPort()))
          .contains((InetSocketAddress) client.getLocalSocketAddress());
    }
    await().atMost(5, SECONDS).until(() -> pair.client.connections().isEmpty() && pair.server.connections().isEmpty());
    assertThat(pair.clientEvents.has("closed", SERVICE)).isTrue();
  }

  @Test
  void shouldOpenOneListenerPerService() {
    pair(true);
    int port = pair.client.openServiceListener(SERVICE);
    assertThat(pair.client.openServiceListener(SERVICE)).isEqualTo(port);
    assertThat(pair.client.openServiceListener(new ServiceAddress("127.0.0.2", 7001))).isNotEqualTo(port);
  }

  @Test
  void shouldTransferLargeStreamsExactlyWhileAnotherConnectionsReaderIsStalled() throws Exception {
    long size = 50L << 20;
    pair(true);
    AtomicLong uploadVerified = new AtomicLong(-1);
    app =
        TestServer.start(
            (socket, in, out) -> {
              CompletableFuture<Void> download =
                  CompletableFuture.runAsync(
                      () -> {
                        try {
                          Pattern.write(out, size, null);
                          socket.shutdownOutput();
                        } catch (IOException e) {
                          throw new RuntimeException(e);
                        }
                      });
              long uploaded = Pattern.verify(in, null);
              download.join();
              uploadVerified.accumulateAndGet(uploaded, Math::max);
            });
    pair.expose(SERVICE, app);

    try (Socket stalled = pair.connect(SERVICE);
        Socket busy = pair.connect(SERVICE)) {
      // `stalled` reads nothing: its download backs up to the server app, and must not hold `busy` up
      CompletableFuture<Void> upload =
          CompletableFuture.runAsync(
              () -> {
                try {
                  Pattern.write(busy.getOutputStream(), size, null);
                  busy.shutdownOutput();
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      assertThat(Pattern.verify(busy.getInputStream(), null)).isEqualTo(size);
      upload.get(20, SECONDS);
      await().atMost(10, SECONDS).until(() -> uploadVerified.get() == size);

      // now the stalled reader reads its whole download, byte-exact
      stalled.shutdownOutput();
      assertThat(Pattern.verify(stalled.getInputStream(), null)).isEqualTo(size);
    }
  }

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void shouldPropagateHalfCloseAndLetTheServerAnswerAfterIt(boolean nativeTransport) throws IOException {
    pair(nativeTransport);
    app =
        TestServer.start(
            (socket, in, out) -> {
              long n = in.readAllBytes().length; // until the client's half-close
              out.write(("got " + n + " bytes\n").getBytes(UTF_8));
            });
    pair.expose(SERVICE, app);

    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write(new byte[1000]);
      client.shutdownOutput();
      BufferedReader reader = new BufferedReader(new InputStreamReader(client.getInputStream(), UTF_8));
      assertThat(reader.readLine()).isEqualTo("got 1000 bytes");
      assertThat(reader.read()).isEqualTo(-1);
    }
    await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("closed", SERVICE, "closed normally"));
  }

  @Test
  void shouldDeliverAHalfCloseMadeWhileHeldAfterTheHeldBytes() throws IOException {
    pair(true);
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write("abc".getBytes(UTF_8));
      client.shutdownOutput(); // before any server exists
      await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("locationNeeded", SERVICE));

      app =
          TestServer.start(
              (socket, in, out) -> out.write(("got " + new String(in.readAllBytes(), UTF_8) + "\n").getBytes(UTF_8)));
      pair.expose(SERVICE, app);
      BufferedReader reader = new BufferedReader(new InputStreamReader(client.getInputStream(), UTF_8));
      assertThat(reader.readLine()).isEqualTo("got abc");
      assertThat(reader.read()).isEqualTo(-1);
    }
  }

  @Test
  void shouldPassOnANormalCloseByALiveServer() throws IOException {
    pair(true);
    app = TestServer.start((socket, in, out) -> out.write("bye\n".getBytes(UTF_8)));
    pair.expose(SERVICE, app);

    try (Socket client = pair.connect(SERVICE)) {
      InputStream in = client.getInputStream();
      assertThat(readExactly(in, 4)).isEqualTo("bye\n");
      assertThat(in.read()).isEqualTo(-1); // EOF, not a reset and not a hold
      client.getOutputStream().write("late".getBytes(UTF_8)); // half-open: the client may still write
    }
  }

  @Test
  void shouldPassOnAResetByALiveServer() throws IOException {
    pair(true);
    app =
        TestServer.start(
            (socket, in, out) -> {
              in.read();
              socket.setSoLinger(true, 0);
              socket.close();
            });
    pair.expose(SERVICE, app);

    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write('x');
      assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketException.class);
    }
  }

  @Test
  void shouldPassOnAResetByTheClient() throws IOException {
    pair(true);
    app = TestServer.echo();
    pair.expose(SERVICE, app);

    Socket client = pair.connect(SERVICE);
    client.getOutputStream().write('x');
    assertThat(client.getInputStream().read()).isEqualTo('x');
    client.setSoLinger(true, 0);
    client.close();

    await().atMost(5, SECONDS).until(() -> !app.results.isEmpty());
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
  }

  @ParameterizedTest(name = "native transport: {0}")
  @ValueSource(booleans = {true, false})
  void shouldReattachClientsWhenServerRestarts(boolean nativeTransport) throws IOException {
    pair(nativeTransport);
    app = TestServer.echo();
    pair.expose(SERVICE, app);

    try (Socket client = pair.connect(SERVICE)) {
      OutputStream out = client.getOutputStream();
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      StringBuilder expected = new StringBuilder("before;");
      out.write("before;".getBytes(UTF_8));
      await().atMost(5, SECONDS).until(() -> received.text().contentEquals(expected));

      for (int restart = 1; restart <= 3; restart++) {
        pair.serverAppAlive.set(false);
        app.crash();
        await().atMost(5, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.HELD);

        String held = "held-" + restart + ";";
        out.write(held.getBytes(UTF_8)); // while no server exists
        expected.append(held);

        app = TestServer.echo(); // the restarted server app, on a new port
        pair.serverAppAlive.set(true);
        pair.restartedOn(SERVICE, app);
        await().atMost(5, SECONDS).until(() -> received.text().contentEquals(expected));

        String after = "after-" + restart + ";";
        out.write(after.getBytes(UTF_8));
        expected.append(after);
        await().atMost(5, SECONDS).until(() -> received.text().contentEquals(expected));
        assertThat(received.error()).isNull();
        assertThat(received.ended()).isFalse();
      }
      ConnectionInfo info = pair.clientSide(client).orElseThrow();
      assertThat(info.state()).isEqualTo(State.ATTACHED);
      assertThat(info.reattachments()).isEqualTo(3);
      assertThat(pair.clientEvents.has("held", SERVICE, "server lost")).isTrue();
    }
  }

  @Test
  void shouldHoldAConnectionToAnUnlocatedServiceAndAttachOnceLocated() throws IOException {
    pair(true);
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write("early".getBytes(UTF_8));
      await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("locationNeeded", SERVICE));
      assertThat(pair.clientSide(client).orElseThrow().state()).isEqualTo(State.CONNECTING);

      app = TestServer.echo();
      pair.expose(SERVICE, app);
      assertThat(readExactly(client.getInputStream(), 5)).isEqualTo("early");
      assertThat(pair.clientSide(client).orElseThrow().state()).isEqualTo(State.ATTACHED);
    }
  }

  @Test
  void shouldHoldARefusedConnectionUntilTheServiceIsLocatedAgain() throws IOException {
    pair(true);
    pair.client.serviceLocated(SERVICE, pair.server.dataAddress()); // but the server daemon does not expose it
    try (Socket client = pair.connect(SERVICE)) {
      await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("held", SERVICE, "not exposed"));
      client.getOutputStream().write("held".getBytes(UTF_8));

      app = TestServer.echo();
      pair.expose(SERVICE, app); // same daemon: serviceLocated with an unchanged location
      assertThat(readExactly(client.getInputStream(), 4)).isEqualTo("held");
    }
  }

  @Test
  void shouldDeliverBytesSentAheadOfARefusedOpenExactlyOnceWhenLocatedAgain() throws IOException {
    pair(true);
    pair.client.serviceLocated(SERVICE, pair.server.dataAddress()); // but the server daemon does not expose it
    try (Socket client = pair.connect(SERVICE)) {
      // written at once: they follow the first link's OPEN, which is refused, so they must be sent again
      client.getOutputStream().write("first ".getBytes(UTF_8));
      await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("held", SERVICE, "not exposed"));
      client.getOutputStream().write("second".getBytes(UTF_8));

      app = TestServer.echo();
      pair.expose(SERVICE, app);
      assertThat(readExactly(client.getInputStream(), 12)).isEqualTo("first second");
      client.getOutputStream().write("!".getBytes(UTF_8));
      assertThat(readExactly(client.getInputStream(), 1)).isEqualTo("!"); // nothing was delivered twice
      assertThat(app.sockets()).hasSize(1);
    }
  }

  @Test
  void shouldDeliverEverythingAClientWritesBeforeItsConnectionIsAttached() throws Exception {
    // A small hold bound: the bytes sent ahead of OPENED fill it on both sides before the app is connected.
    pair = new RelayPair(c -> c.withHoldBufferBytes(16 * 1024));
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    long size = 1L << 20;
    try (Socket client = pair.connect(SERVICE)) {
      CompletableFuture<Void> upload =
          CompletableFuture.runAsync(
              () -> {
                try {
                  Pattern.write(client.getOutputStream(), size, null);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      Pattern.verifyExactly(client.getInputStream(), 0, size);
      upload.get(20, SECONDS);
      assertThat(pair.clientSide(client).orElseThrow().bytesToServer()).isEqualTo(size);
    }
  }

  @Test
  void shouldResetHeldAndNewConnectionsWhenTheServiceFails() throws IOException {
    pair(true);
    try (Socket client = pair.connect(SERVICE)) {
      await().atMost(5, SECONDS).until(() -> pair.clientSide(client).isPresent());
      pair.client.serviceFailed(SERVICE, "no server node left");
      assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketException.class);
      assertThat(pair.clientEvents.has("closed", SERVICE, "no server node left")).isTrue();
    }
    try (Socket late = pair.connect(SERVICE)) {
      assertThatThrownBy(() -> late.getInputStream().read()).isInstanceOf(SocketException.class);
    }
  }

  @Test
  void shouldResetAHeldConnectionWhenTheHoldTimesOut() throws IOException {
    pair = new RelayPair(c -> c.withHoldTimeout(Duration.ofMillis(300)));
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write("waiting".getBytes(UTF_8));
      assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketException.class);
      assertThat(pair.clientEvents.has("closed", SERVICE, "hold timeout")).isTrue();
    }
  }

  @Test
  void shouldHoldWhileTheRecoveringServiceIsNotLocatedAgain() throws IOException {
    pair(true);
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write('a');
      assertThat(client.getInputStream().read()).isEqualTo('a');

      pair.client.serviceRecovering(SERVICE);
      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(5, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.HELD);
      // the same server daemon would accept: yet nothing is retried until the service is located again
      app = TestServer.echo();
      pair.server.withdrawLocalService(SERVICE);
      pair.server.exposeLocalService(SERVICE, app.address(), () -> CompletableFuture.completedFuture(true));
      client.getOutputStream().write('b');
      await()
          .during(Duration.ofMillis(300))
          .atMost(2, SECONDS)
          .until(() -> pair.clientSide(client).orElseThrow().state() == State.HELD);

      pair.client.serviceLocated(SERVICE, pair.server.dataAddress());
      assertThat(client.getInputStream().read()).isEqualTo('b');
    }
  }

  @Test
  void shouldTakeAnUnansweredLivenessProbeAsAliveAfterTheGrace() throws IOException {
    pair = new RelayPair(c -> c.withLivenessGrace(Duration.ofMillis(200)));
    app = TestServer.start((socket, in, out) -> out.write("bye\n".getBytes(UTF_8)));
    pair.server.exposeLocalService(SERVICE, app.address(), CompletableFuture::new); // never answers
    pair.client.serviceLocated(SERVICE, pair.server.dataAddress());

    try (Socket client = pair.connect(SERVICE)) {
      InputStream in = client.getInputStream();
      assertThat(readExactly(in, 4)).isEqualTo("bye\n");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void shouldRetryAKnownLocationWithBackoffUntilTheRestartedAppAnswers() throws IOException {
    pair(true);
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write('a');
      assertThat(client.getInputStream().read()).isEqualTo('a');

      pair.serverAppAlive.set(false);
      app.crash();
      await().atMost(5, SECONDS).until(() -> pair.clientSide(client).orElseThrow().state() == State.HELD);
      // the server's daemon restarts the app behind the same data address; the client's daemon is not told
      app = TestServer.echo();
      pair.serverAppAlive.set(true);
      pair.server.withdrawLocalService(SERVICE);
      pair.server.exposeLocalService(SERVICE, app.address(), () -> CompletableFuture.completedFuture(true));

      client.getOutputStream().write('b');
      assertThat(client.getInputStream().read()).isEqualTo('b');
      assertThat(pair.clientSide(client).orElseThrow().reattachments()).isEqualTo(1);
    }
  }

  @Test
  void shouldHoldWhenTheServersDaemonIsLostAndFailOverToAnotherNode() throws IOException {
    pair(true);
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    try (Socket client = pair.connect(SERVICE);
        TestServer other = TestServer.echo();
        Relay otherNode = Relays.start(TestConfigs.defaults("n3", "127.0.0.4"), RelayListener.NONE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("one;".getBytes(UTF_8));
      await().atMost(5, SECONDS).until(() -> received.text().equals("one;"));

      pair.client.serviceRecovering(SERVICE); // the cluster noticed the server node going
      pair.server.close(); // the server's daemon dies: its links drop without FIN or ABORT
      await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("held", SERVICE, "link to"));
      client.getOutputStream().write("two;".getBytes(UTF_8));

      otherNode.exposeLocalService(SERVICE, other.address(), () -> CompletableFuture.completedFuture(true));
      pair.client.serviceLocated(SERVICE, otherNode.dataAddress());
      await().atMost(5, SECONDS).until(() -> received.text().equals("one;two;"));
      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
    }
  }

  private static String readExactly(InputStream in, int n) throws IOException {
    return new String(in.readNBytes(n), UTF_8);
  }
}
