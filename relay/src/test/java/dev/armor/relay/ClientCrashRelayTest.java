package dev.armor.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A protected client's process dies (its ARMOR restarts it): the server's connection stays open and is taken over
 * by the restarted client's next connection to the same service. Two real relays; the client's liveness probe is a
 * switch. Each test proves one rule of docs/ARCHITECTURE.md "Client crash".
 */
@Timeout(value = 30, unit = SECONDS)
class ClientCrashRelayTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7020);
  private static final String ARMOR = "exec-n1-client";

  private final AtomicBoolean clientAlive = new AtomicBoolean(true);
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

  /** A line-echo server that reports how each connection ended (results: null error = EOF). */
  private void startServer() throws IOException {
    app = TestServer.echo();
    pair.expose(SERVICE, app);
  }

  private Socket connectAs(String armor) throws IOException {
    int port = pair.client.openServiceListener(
        SERVICE, armor, () -> CompletableFuture.completedFuture(clientAlive.get()));
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setTcpNoDelay(true);
    return socket;
  }

  private static void crash(Socket client) throws IOException {
    client.setSoLinger(true, 0);
    client.close();
  }

  private static String read(InputStream in, int n) throws IOException {
    return new String(in.readNBytes(n), UTF_8);
  }

  @Test
  void aNormalCloseByALiveClientStillClosesTheServersConnection() throws IOException {
    pair = new RelayPair();
    startServer();
    try (Socket client = connectAs(ARMOR)) {
      client.getOutputStream().write("hi".getBytes(UTF_8));
      assertThat(read(client.getInputStream(), 2)).isEqualTo("hi");
      client.shutdownOutput();
      assertThat(client.getInputStream().read()).isEqualTo(-1); // the echo server saw the EOF and half-closed
    }
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isNull();
    await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("closed", SERVICE, "closed normally"));
  }

  @Test
  void aResetByALiveClientIsPassedOn() throws IOException {
    pair = new RelayPair();
    startServer();
    Socket client = connectAs(ARMOR);
    client.getOutputStream().write('x');
    assertThat(client.getInputStream().read()).isEqualTo('x');
    crash(client); // alive: the app itself reset its connection
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
  }

  @Test
  void aDeadClientsConnectionIsHeldAndTakenOverByItsRestartedInstance() throws Exception {
    pair = new RelayPair();
    startServer();
    Socket first = connectAs(ARMOR);
    first.getOutputStream().write("one;".getBytes(UTF_8));
    assertThat(read(first.getInputStream(), 4)).isEqualTo("one;");

    clientAlive.set(false);
    crash(first);
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).state() == State.ORPHANED);
    // the server goes on sending while its client is dead: kept for the restarted instance
    app.sockets().get(0).getOutputStream().write("meanwhile;".getBytes(UTF_8));
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).serverBytesKept() == 10);

    clientAlive.set(true);
    try (Socket restarted = connectAs(ARMOR)) {
      InputStream in = restarted.getInputStream();
      assertThat(read(in, 10)).isEqualTo("meanwhile;");
      restarted.getOutputStream().write("two;".getBytes(UTF_8));
      assertThat(read(in, 4)).isEqualTo("two;");
      ConnectionInfo info = pair.client.connections().get(0);
      assertThat(info.state()).isEqualTo(State.ATTACHED);
      assertThat(info.client().getPort()).isEqualTo(restarted.getLocalPort());
      assertThat(pair.client.connections()).hasSize(1);
    }
    assertThat(app.sockets()).as("the server accepted no new connection").hasSize(1);
    assertThat(pair.clientEvents.has("held", SERVICE, "died")).isTrue();
  }

  @Test
  void orphansAreTakenOverOldestFirstAndOnlyByTheSameArmor() throws Exception {
    pair = new RelayPair();
    app = TestServer.start((socket, in, out) -> in.transferTo(OutputStream.nullOutputStream()));
    pair.expose(SERVICE, app);
    Socket a = connectAs(ARMOR);
    await().atMost(5, SECONDS).until(() -> app.sockets().size() == 1);
    Socket b = connectAs(ARMOR);
    await().atMost(5, SECONDS).until(() -> app.sockets().size() == 2);
    clientAlive.set(false);
    crash(a);
    await().atMost(5, SECONDS).until(
        () -> pair.client.connections().stream().filter(c -> c.state() == State.ORPHANED).count() == 1);
    crash(b);
    await().atMost(5, SECONDS).until(
        () -> pair.client.connections().stream().filter(c -> c.state() == State.ORPHANED).count() == 2);
    app.sockets().get(0).getOutputStream().write("A".getBytes(UTF_8));
    app.sockets().get(1).getOutputStream().write("B".getBytes(UTF_8));
    clientAlive.set(true);

    try (Socket other = connectAs("exec-n1-other")) {
      await().atMost(5, SECONDS).until(() -> app.sockets().size() == 3); // another ARMOR: a connection of its own
    }
    try (Socket first = connectAs(ARMOR);
        Socket second = connectAs(ARMOR)) {
      assertThat(read(first.getInputStream(), 1)).isEqualTo("A");
      assertThat(read(second.getInputStream(), 1)).isEqualTo("B");
    }
    assertThat(app.sockets()).hasSize(3);
  }

  @Test
  void aRestartedClientThatConnectsBeforeTheProbeAnswersStillTakesOver() throws Exception {
    pair = new RelayPair();
    startServer();
    CompletableFuture<Boolean> slowAnswer = new CompletableFuture<>();
    AtomicBoolean asked = new AtomicBoolean();
    int port = pair.client.openServiceListener(SERVICE, ARMOR, () -> {
      asked.set(true);
      return slowAnswer;
    });
    Socket first = new Socket(InetAddress.getLoopbackAddress(), port);
    first.getOutputStream().write("one;".getBytes(UTF_8));
    assertThat(read(first.getInputStream(), 4)).isEqualTo("one;");
    crash(first);
    await().atMost(5, SECONDS).untilTrue(asked); // the relay saw the app end and is asking

    pair.client.openServiceListener(SERVICE, ARMOR, () -> CompletableFuture.completedFuture(true)); // restarted
    try (Socket restarted = new Socket(InetAddress.getLoopbackAddress(), port)) {
      restarted.getOutputStream().write("two;".getBytes(UTF_8)); // waits until the first one's fate is known
      Thread.sleep(200); // makes it likely the relay accepted it before the answer; no assertion depends on it
      slowAnswer.complete(false);
      assertThat(read(restarted.getInputStream(), 4)).isEqualTo("two;");
      assertThat(pair.client.connections()).hasSize(1);
      assertThat(pair.client.connections().get(0).reattachments()).isEqualTo(1);
    }
    assertThat(app.sockets()).as("the server accepted no new connection").hasSize(1);
  }

  @Test
  void aServerThatEndsItsOutputWhileItsClientIsDeadEndsItForTheRestartedClientAfterItsBytes() throws Exception {
    pair = new RelayPair();
    app = TestServer.start((socket, in, out) -> in.transferTo(OutputStream.nullOutputStream())); // reads to EOF
    pair.expose(SERVICE, app);
    Socket first = connectAs(ARMOR);
    await().atMost(5, SECONDS).until(() -> app.sockets().size() == 1);
    clientAlive.set(false);
    crash(first);
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).state() == State.ORPHANED);
    Socket serverSide = app.sockets().get(0);
    serverSide.getOutputStream().write("bye".getBytes(UTF_8));
    serverSide.shutdownOutput();
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).serverBytesKept() == 3);

    clientAlive.set(true);
    try (Socket restarted = connectAs(ARMOR)) {
      InputStream in = restarted.getInputStream();
      assertThat(read(in, 3)).isEqualTo("bye");
      assertThat(in.read()).isEqualTo(-1);
      restarted.shutdownOutput(); // the server sees a normal end
    }
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isNull();
  }

  @Test
  void anOrphanWhoseServiceMovesIsClosedWithAResetToTheServer() throws Exception {
    pair = new RelayPair();
    startServer();
    Socket first = connectAs(ARMOR);
    first.getOutputStream().write('x');
    assertThat(first.getInputStream().read()).isEqualTo('x');
    clientAlive.set(false);
    crash(first);
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).state() == State.ORPHANED);
    pair.client.serviceLocated(SERVICE, new java.net.InetSocketAddress("127.0.0.9", 9));
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
    assertThat(pair.clientEvents.has("closed", SERVICE, "moved to daemon 127.0.0.9:9 while the client app was dead"))
        .isTrue();
  }

  @Test
  void withNoRestartedClientWithinTheHoldTimeoutTheServerGetsAReset() throws Exception {
    pair = new RelayPair(c -> c.withHoldTimeout(Duration.ofMillis(800)));
    startServer();
    Socket client = connectAs(ARMOR);
    client.getOutputStream().write('x');
    assertThat(client.getInputStream().read()).isEqualTo('x');
    clientAlive.set(false);
    crash(client);
    await().atMost(5, SECONDS).until(() -> pair.clientEvents.has("held", SERVICE, "died"));
    await().atMost(10, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
    assertThat(pair.clientEvents.has("closed", SERVICE, "within the hold timeout")).isTrue();
    assertThat(pair.client.connections()).isEmpty();
  }

  @Test
  void whenItsArmorWillNotRestartItsOrphanIsClosedAtOnceAndItsListenerToo() throws Exception {
    pair = new RelayPair(); // the default hold timeout, 60 s: a reset within seconds is the ARMOR's end
    startServer();
    Socket client = connectAs(ARMOR);
    int port = client.getPort();
    client.getOutputStream().write('x');
    assertThat(client.getInputStream().read()).isEqualTo('x');
    clientAlive.set(false);
    crash(client);
    await().atMost(5, SECONDS).until(() -> pair.client.connections().get(0).state() == State.ORPHANED);

    pair.client.clientArmorEnded(ARMOR, "its Execution ARMOR gave up");

    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
    assertThat(pair.clientEvents.has("closed", SERVICE, "will not be restarted (its Execution ARMOR gave up")).isTrue();
    await().atMost(5, SECONDS).untilAsserted(() -> assertThat(refuses(port)).isTrue());
  }

  @Test
  void aConnectionOfAnEndedArmorGoesOnAndIsNotHeldWhenItsAppDies() throws Exception {
    pair = new RelayPair();
    startServer();
    Socket client = connectAs(ARMOR);
    client.getOutputStream().write('a');
    assertThat(client.getInputStream().read()).isEqualTo('a');

    pair.client.clientArmorEnded(ARMOR, "its Execution ARMOR stopped");
    client.getOutputStream().write('b'); // its listener is closed, not its connections
    assertThat(client.getInputStream().read()).isEqualTo('b');

    clientAlive.set(false);
    crash(client);
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1); // not held for a restart: reset at once
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
    assertThat(pair.clientEvents.has("closed", SERVICE, "will not be restarted (its Execution ARMOR stopped")).isTrue();
  }

  @Test
  void anArmorIdThatComesBackAfterItsEndGetsANewListener() throws Exception {
    pair = new RelayPair();
    startServer();
    try (Socket first = connectAs(ARMOR)) {
      first.getOutputStream().write('1');
      assertThat(first.getInputStream().read()).isEqualTo('1');
    }
    pair.client.clientArmorEnded(ARMOR, "its Execution ARMOR stopped");
    pair.client.clientArmorEnded("exec-n1-never-seen", "its Execution ARMOR stopped"); // ignored

    clientAlive.set(true);
    try (Socket again = connectAs(ARMOR)) {
      again.getOutputStream().write('2');
      assertThat(again.getInputStream().read()).isEqualTo('2');
    }
  }

  private static boolean refuses(int port) {
    try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return false;
    } catch (IOException refused) {
      return refused instanceof java.net.ConnectException;
    }
  }

  @Test
  void aWrappedClientsCrashClosesAsBefore() throws Exception {
    pair = new RelayPair();
    startServer();
    Socket client = pair.connect(SERVICE); // the shared listener: no ARMOR, no probe
    client.getOutputStream().write('x');
    assertThat(client.getInputStream().read()).isEqualTo('x');
    crash(client);
    await().atMost(5, SECONDS).until(() -> app.results.size() == 1);
    assertThat(app.results.peek().error()).isInstanceOf(SocketException.class);
  }
}
