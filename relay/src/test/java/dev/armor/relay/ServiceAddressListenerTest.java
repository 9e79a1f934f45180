package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RecordingListener;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestConfigs;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The listener at the service address itself (issue 14, "any client reaches a protected server"): a client Armor
 * does not wrap connects to the address the app asked for and is carried by the server's own daemon, held across a
 * crash of the app like a wrapped client. One relay plays the server's daemon, as in a node: it serves the app and
 * accepts the clients.
 */
@Timeout(value = 30, unit = SECONDS)
class ServiceAddressListenerTest {

  private static final String NODE = "127.0.0.3";

  private final RecordingListener events = new RecordingListener();
  private final AtomicBoolean appAlive = new AtomicBoolean(true);
  private Relay relay;
  private TestServer app;
  private ServiceAddress service;

  @BeforeEach
  void start() throws IOException {
    relay = Relays.start(TestConfigs.defaults("n1", NODE), events);
    service = new ServiceAddress(NODE, freePort());
  }

  @AfterEach
  void stop() throws IOException {
    if (app != null) {
      app.close();
    }
    relay.close();
  }

  @Test
  void unwrappedClient_isCarriedToTheAppAndHeldAcrossItsCrash() throws Exception {
    serve(TestServer.echo());
    relay.listenAtServiceAddress(service, service.toSocketAddress());
    relay.listenAtServiceAddress(service, service.toSocketAddress()); // idempotent

    try (Socket client = new Socket(InetAddress.getByName(NODE), service.port())) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("before;".getBytes(UTF_8));
      await().atMost(5, SECONDS).until(() -> received.text().contentEquals("before;"));
      ConnectionInfo info = clientSide(client);
      assertThat(info.client()).isEqualTo(client.getLocalSocketAddress());
      // the app is told the real client, as for a wrapped one
      InetSocketAddress appPeer = (InetSocketAddress) app.sockets().get(0).getRemoteSocketAddress();
      assertThat(relay.clientOfPeer(appPeer)).contains((InetSocketAddress) client.getLocalSocketAddress());

      appAlive.set(false);
      app.crash();
      relay.withdrawLocalService(service);
      relay.serviceRecovering(service);
      await().atMost(5, SECONDS).until(() -> clientSide(client).state() == State.HELD);
      client.getOutputStream().write("held;".getBytes(UTF_8)); // while no server exists

      appAlive.set(true);
      serve(TestServer.echo()); // the restarted app, on a new port
      await().atMost(5, SECONDS).until(() -> received.text().contentEquals("before;held;"));
      assertThat(received.error()).isNull();
      assertThat(received.ended()).isFalse();
      assertThat(clientSide(client).reattachments()).isEqualTo(1);
    }
  }

  @Test
  void addressHeldBySomeoneElse_failsWithBindException() throws Exception {
    try (ServerSocket other = new ServerSocket()) {
      other.bind(service.toSocketAddress());
      assertThatThrownBy(() -> relay.listenAtServiceAddress(service, service.toSocketAddress()))
          .isInstanceOf(UncheckedIOException.class)
          .cause()
          .isInstanceOf(BindException.class)
          .hasMessageStartingWith("Address already in use: " + service);
    }
    // nothing half-open is left behind: once the address is free, it can be taken
    relay.listenAtServiceAddress(service, service.toSocketAddress());
    try (Socket client = new Socket(InetAddress.getByName(NODE), service.port())) {
      assertThat(client.isConnected()).isTrue();
    }
  }

  @Test
  void serviceFailed_closesTheListenerUnlessALocalAppServesItAgain() throws Exception {
    serve(TestServer.echo());
    relay.listenAtServiceAddress(service, service.toSocketAddress());

    // a close and a rebind raced the FTM's notice of the close: the app serves again, so the address stays
    relay.serviceFailed(service, "unregistered");
    try (Socket client = new Socket(InetAddress.getByName(NODE), service.port())) {
      assertThat(client.isConnected()).isTrue();
    }

    relay.withdrawLocalService(service);
    relay.serviceFailed(service, "unregistered");
    // a connect that raced the close may still be taken (then reset: the service failed), as a server's own close
    // can take one; the next ones are refused
    await().atMost(5, SECONDS).until(() -> refused(service));
  }

  /** The app (re)starts: exposed and located here, as APP_COMM_SERVER and APP_COMM_CLIENT tell the relay. */
  private void serve(TestServer started) {
    app = started;
    relay.exposeLocalService(service, app.address(), () -> CompletableFuture.completedFuture(appAlive.get()));
    relay.serviceLocated(service, relay.dataAddress(), RecoveryPolicy.RECONNECT);
  }

  private ConnectionInfo clientSide(Socket client) {
    return relay.connections().stream()
        .filter(c -> c.side() == Side.CLIENT && c.client().getPort() == client.getLocalPort())
        .findFirst().orElseThrow();
  }

  private static boolean refused(ServiceAddress service) throws IOException {
    try (Socket ignored = new Socket(InetAddress.getByName(NODE), service.port())) {
      return false;
    } catch (ConnectException e) {
      return true;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(NODE))) {
      return probe.getLocalPort();
    }
  }
}
