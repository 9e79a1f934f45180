package dev.armor.relay.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Spare links: connected ahead of need after an attach, taken by the next connection, dropped when closed. */
@Timeout(value = 30, unit = SECONDS)
class LinkPoolTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7300);

  private RelayPair pair;
  private TestServer app;

  @AfterEach
  void tearDown() throws IOException {
    if (app != null) {
      app.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void theNextConnectionOnALoopTakesTheSpareLinkOpenedAfterTheFirstAttached() throws IOException {
    pair = new RelayPair(c -> c.withIoThreads(1).withLinks(dev.armor.relay.RelayConfig.LinkMode.DEDICATED)); // one loop: every connection meets the same spares
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    LinkPool pool = ((NettyRelay) pair.client).linkPool();
    assertThat(pool.idle()).isZero(); // none before a daemon has served a connection

    echoOnce("first");
    await().atMost(10, SECONDS).until(() -> pool.idle() == 1);
    assertThat(pool.taken()).isZero();

    echoOnce("second");
    assertThat(pool.taken()).isEqualTo(1);
    await().atMost(10, SECONDS).until(() -> pool.idle() == 1); // and the next spare is open again
    echoOnce("third");
    assertThat(pool.taken()).isEqualTo(2);
    assertThat(app.sockets()).hasSize(3);
  }

  @Test
  void aSpareClosedByTheServerDaemonIsDropped() throws IOException {
    pair = new RelayPair(c -> c.withIoThreads(1).withLinks(dev.armor.relay.RelayConfig.LinkMode.DEDICATED));
    app = TestServer.echo();
    pair.expose(SERVICE, app);
    LinkPool pool = ((NettyRelay) pair.client).linkPool();
    echoOnce("first");
    await().atMost(10, SECONDS).until(() -> pool.idle() == 1);

    pair.server.close();

    await().atMost(10, SECONDS).until(() -> pool.idle() == 0);
    assertThat(pool.taken()).isZero();
  }

  private void echoOnce(String text) throws IOException {
    try (Socket client = pair.connect(SERVICE)) {
      client.getOutputStream().write(text.getBytes(UTF_8));
      assertThat(new String(client.getInputStream().readNBytes(text.length()), UTF_8)).isEqualTo(text);
    }
  }
}
