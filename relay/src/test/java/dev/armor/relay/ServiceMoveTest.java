package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.Blackhole;
import dev.armor.relay.testkit.RecordingListener;
import dev.armor.relay.testkit.TestServer;
import dev.armor.relay.testkit.TestConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A service moves to another daemon while its connections look alive: the old server daemon is cut off (its link
 * goes silent through a {@link Blackhole}: no FIN, no reset), the FTM says the service is now at a second daemon,
 * and the client's ATTACHED connection continues there. Three real relays in one JVM: client daemon 127.0.0.2,
 * server daemons 127.0.0.3 and 127.0.0.4.
 */
@Timeout(value = 30, unit = SECONDS)
class ServiceMoveTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7010);

  private final RecordingListener clientEvents = new RecordingListener();
  private Relay client;
  private Relay oldServer;
  private Relay newServer;
  private Blackhole network;
  private TestServer oldApp;
  private TestServer newApp;

  @AfterEach
  void tearDown() throws IOException {
    for (AutoCloseable c : new AutoCloseable[] {network, oldApp, newApp, client, oldServer, newServer}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  @ParameterizedTest(name = "recovery {0}")
  @EnumSource(RecoveryPolicy.class)
  void attachedConnectionContinuesAtTheNewDaemonWhenTheOldOneGoesSilent(RecoveryPolicy policy) throws Exception {
    client = Relays.start(TestConfigs.defaults("n1", "127.0.0.2"), clientEvents);
    oldServer = Relays.start(TestConfigs.defaults("n2", "127.0.0.3"), RelayListener.NONE);
    newServer = Relays.start(TestConfigs.defaults("n3", "127.0.0.4"), RelayListener.NONE);
    oldApp = TestServer.echo();
    newApp = TestServer.echo();
    oldServer.exposeLocalService(SERVICE, oldApp.address(), () -> CompletableFuture.completedFuture(true));
    newServer.exposeLocalService(SERVICE, newApp.address(), () -> CompletableFuture.completedFuture(true));
    network = new Blackhole("127.0.0.3", oldServer.dataAddress());
    client.serviceLocated(SERVICE, network.address(), policy);

    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), client.openServiceListener(SERVICE))) {
      OutputStream out = app.getOutputStream();
      InputStream in = app.getInputStream();
      out.write("before;".getBytes(UTF_8));
      assertThat(new String(in.readNBytes(7), UTF_8)).isEqualTo("before;");

      network.freeze(); // the old node is cut off: its link stays open and silent
      client.serviceRecovering(SERVICE); // as the FTM says first: nothing to do for a link that looks alive
      assertThat(client.connections().get(0).state()).isEqualTo(State.ATTACHED);
      client.serviceLocated(SERVICE, newServer.dataAddress(), policy);

      await().atMost(10, SECONDS)
          .until(() -> client.connections().get(0).state() == State.ATTACHED
              && client.connections().get(0).reattachments() == 1);
      out.write("after;".getBytes(UTF_8));
      // under replay the new instance is replayed "before;" and its echo of it is dropped as already delivered
      assertThat(new String(in.readNBytes(6), UTF_8)).isEqualTo("after;");
      assertThat(newApp.sockets()).hasSize(1);
      assertThat(clientEvents.has("held", SERVICE, "service moved to daemon 127.0.0.4")).isTrue();
      if (TestConfigs.links() != dev.armor.relay.RelayConfig.LinkMode.MULTIPLEXED) {
        await().atMost(5, SECONDS).until(() -> network.nearSideClosed.get() == 1); // the silent link was dropped
      } // else the dropped link was a stream: its shared connection stays until keepalive gives up on it
    }
  }

  @Test
  void attachedConnectionStaysWhenLocatedAgainAtTheSameDaemon() throws Exception {
    client = Relays.start(TestConfigs.defaults("n1", "127.0.0.2"), clientEvents);
    oldServer = Relays.start(TestConfigs.defaults("n2", "127.0.0.3"), RelayListener.NONE);
    oldApp = TestServer.echo();
    oldServer.exposeLocalService(SERVICE, oldApp.address(), () -> CompletableFuture.completedFuture(true));
    client.serviceLocated(SERVICE, oldServer.dataAddress());
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), client.openServiceListener(SERVICE))) {
      app.getOutputStream().write('a');
      assertThat(app.getInputStream().read()).isEqualTo('a');
      client.serviceLocated(SERVICE, oldServer.dataAddress()); // same daemon: the link is the right one
      app.getOutputStream().write('b');
      assertThat(app.getInputStream().read()).isEqualTo('b');
      assertThat(client.connections().get(0).reattachments()).isZero();
      assertThat(oldApp.sockets()).hasSize(1);
    }
  }
}
