package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.StreamRecorder;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The direct path offered an app that is gone by the time the client's daemon connects (it died between OPENED and
 * the connect, the race issue 20's self-connections came from): the refused connect is a failed attempt, held and
 * retried, and the service keeps the direct path. Before, one such race sent the service's connections relayed
 * until the daemon restarted.
 */
@Timeout(value = 60, unit = SECONDS)
class DirectPathRefusedTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7260);

  private RelayPair pair;
  private TestServer gone;
  private TestServer app;

  @AfterEach
  void tearDown() throws IOException {
    for (TestServer server : new TestServer[] {gone, app}) {
      if (server != null) {
        server.close();
      }
    }
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void aDirectConnectRefusedByAGoneAppIsRetriedAndTheServiceKeepsTheDirectPath() throws Exception {
    pair = new RelayPair(c -> c.withLinks(RelayConfig.LinkMode.DEDICATED).withDataPath(RelayConfig.DataPath.DIRECT));
    gone = TestServer.echo();
    pair.expose(SERVICE, gone);
    gone.crash(); // exposed, but nobody listens there any more: the direct connect is refused

    try (Socket client = pair.connect(SERVICE)) {
      StreamRecorder received = new StreamRecorder(client.getInputStream());
      client.getOutputStream().write("first;".getBytes(UTF_8));
      await().atMost(10, SECONDS).until(() -> pair.clientEvents.has("held", SERVICE, "refused the direct connection"));
      assertThat(pair.clientSide(client).orElseThrow().state()).isNotEqualTo(State.CLOSED);

      app = TestServer.echo();
      pair.restartedOn(SERVICE, app);

      await().atMost(10, SECONDS).until(() -> received.text().equals("first;"));
      ConnectionInfo info = pair.clientSide(client).orElseThrow();
      assertThat(info.state()).isEqualTo(State.ATTACHED);
      assertThat(info.direct()).as("the service kept the direct path").isTrue();
      assertThat(pair.clientEvents.events).noneMatch(e -> String.valueOf(e.reason()).contains("relayed from now on"));
    }
    try (Socket next = pair.connect(SERVICE)) {
      next.getOutputStream().write("next;".getBytes(UTF_8));
      StreamRecorder received = new StreamRecorder(next.getInputStream());
      await().atMost(10, SECONDS).until(() -> received.text().equals("next;"));
      assertThat(pair.clientSide(next).orElseThrow().direct()).isTrue();
    }
  }
}
