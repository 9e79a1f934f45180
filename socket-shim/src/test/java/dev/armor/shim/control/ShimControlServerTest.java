package dev.armor.shim.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.armor.shim.control.ShimMessage.Ack;
import dev.armor.shim.control.ShimMessage.BindQuery;
import dev.armor.shim.control.ShimMessage.ConnectionKind;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Direct;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Listening;
import dev.armor.shim.control.ShimMessage.NoPeer;
import dev.armor.shim.control.ShimMessage.Ok;
import dev.armor.shim.control.ShimMessage.Peer;
import dev.armor.shim.control.ShimMessage.PeerNotice;
import dev.armor.shim.control.ShimMessage.PeerQuery;
import dev.armor.shim.control.ShimMessage.Ping;
import dev.armor.shim.control.ShimMessage.Pong;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Unlistened;
import dev.armor.shim.control.ShimMessage.Via;
import dev.armor.shim.control.ShimMessage.Welcome;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShimControlServerTest {
  private static final InetSocketAddress SERVICE = new InetSocketAddress("10.1.0.5", 8080);

  @TempDir Path tempDir;
  private final RecordingHandler handler = new RecordingHandler();
  private ShimControlServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void start_createsTheSocketsDirectoryPrivate() throws Exception {
    Path socket = tempDir.resolve("run/armor/shim.sock");

    server = ShimControlServer.start(socket, handler);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
    assertThat(socket).exists();
  }

  @Test
  void start_replacesAStaleSocketFile_butNotALiveOne() throws Exception {
    Path socket = tempDir.resolve("shim.sock");
    try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists();

    server = ShimControlServer.start(socket, handler);

    assertThatThrownBy(() -> ShimControlServer.start(socket, handler)).isInstanceOf(IOException.class)
        .hasMessageContaining("another server already listens");
    try (RawShim shim = RawShim.session(socket, 1)) {
      assertThat(shim.receive()).isEqualTo(new Welcome());
    }
  }

  @Test
  void aConnectionThatNeverSaysHello_isClosedAtItsDeadline_andTheOthersAreServed() throws Exception {
    server = ShimControlServer.start(tempDir.resolve("shim.sock"), handler, Duration.ofMillis(300), 8);
    try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()))) {
      // It never writes; the read blocks until the server closes it at the deadline: end of stream.
      assertThat(silent.read(java.nio.ByteBuffer.allocate(16))).isEqualTo(-1);
    }
    try (RawShim shim = RawShim.session(server.socketPath(), 90)) {
      assertThat(shim.receive()).isEqualTo(new Welcome());
    }
  }

  @Test
  void connectionsBeyondTheCap_areClosedAtOnce() throws Exception {
    server = ShimControlServer.start(tempDir.resolve("shim.sock"), handler, Duration.ofSeconds(30), 2);
    try (SocketChannel first = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()));
        SocketChannel second = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 2);
      try (SocketChannel third = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()))) {
        assertThat(third.read(java.nio.ByteBuffer.allocate(16))).isEqualTo(-1);
      }
    }
  }

  @Test
  void session_isOpenedOnHello_andClosedAtEndOfStream() throws Exception {
    server = start();

    RawShim shim = RawShim.session(server.socketPath(), 77);
    assertThat(shim.receive()).isEqualTo(new Welcome());
    ShimSession session = handler.opened.get(0);
    assertThat(session.pid()).isEqualTo(77);
    assertThat(session.armorId()).isEqualTo("armor-1");
    assertThat(session.node()).isEqualTo("node-a");
    assertThat(session.isOpen()).isTrue();

    shim.close();

    await().atMost(Duration.ofSeconds(10)).until(() -> handler.closed.contains(session));
    assertThat(session.isOpen()).isFalse();
  }

  @Test
  void ping_isAnsweredThroughTheSessionConnection_andFailsWhenUnanswered() throws Exception {
    server = start();
    try (RawShim shim = RawShim.session(server.socketPath(), 78)) {
      shim.receive();
      ShimSession session = handler.opened.get(0);

      var answered = session.ping(Duration.ofSeconds(10));
      Ping ping = (Ping) shim.receive();
      shim.send(new Pong(ping.id()));
      assertThat(answered.get(10, TimeUnit.SECONDS)).isTrue();

      var unanswered = session.ping(Duration.ofMillis(50));
      assertThat(unanswered.get(10, TimeUnit.SECONDS)).isFalse();
    }
  }

  @Test
  void aPingAskedForInSessionOpened_followsTheWelcome() throws Exception {
    handler.pingOnOpen = true;
    server = start();
    try (RawShim shim = RawShim.session(server.socketPath(), 85)) {
      assertThat(shim.receive()).isEqualTo(new Welcome());
      assertThat(shim.receive()).isInstanceOf(Ping.class);
    }
  }

  @Test
  void requests_onAConnectionTiedToTheSessionByPid_areAnsweredByTheHandler() throws Exception {
    server = start();
    try (RawShim session = RawShim.welcomedSession(server.socketPath(), 79);
        RawShim requests = RawShim.request(server.socketPath(), 79)) {
      assertThat(requests.receive()).isEqualTo(new Welcome());

      assertThat(requests.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
      assertThat(requests.ask(new RouteQuery(new InetSocketAddress("10.1.0.6", 1)))).isEqualTo(new Direct());
      assertThat(requests.ask(new RouteQuery(new InetSocketAddress("10.1.0.7", 1)))).isEqualTo(new Fail("down"));
      assertThat(requests.ask(new BindQuery(SERVICE))).isEqualTo(new Ok());
      assertThat(requests.ask(new Listening(SERVICE, 40002))).isEqualTo(new Fail("taken"));
      assertThat(requests.ask(new Unlistened(SERVICE))).isEqualTo(new Ack());
      assertThat(requests.ask(new PeerQuery(50000))).isEqualTo(new Peer(SERVICE));
      assertThat(requests.ask(new PeerQuery(50001))).isEqualTo(new NoPeer());
      assertThat(handler.calls).containsExactly("route /10.1.0.5:8080 pid 79", "route /10.1.0.6:1 pid 79",
          "route /10.1.0.7:1 pid 79", "bind /10.1.0.5:8080", "listening /10.1.0.5:8080 40002",
          "unlistened /10.1.0.5:8080", "peerOf 50000", "peerOf 50001");
    }
  }

  @Test
  void aRequestConnectionWithoutSession_isRefused() throws Exception {
    server = start();
    try (RawShim requests = RawShim.request(server.socketPath(), 80)) {
      assertThat(requests.receive()).isInstanceOf(DaemonError.class);
      assertThatThrownBy(requests::receive).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void peerNotices_goOutOnThePeersConnectionOfTheSessionsProcess() throws Exception {
    server = start();
    try (RawShim session = RawShim.welcomedSession(server.socketPath(), 86);
        RawShim peers = RawShim.peers(server.socketPath(), 86)) {
      assertThat(peers.receive()).isEqualTo(new Welcome());
      ShimSession shimSession = handler.opened.get(0);
      InetSocketAddress client = new InetSocketAddress("10.2.0.9", 41000);

      // the daemon attaches the connection to the session after the WELCOME: announce until one arrives
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        shimSession.announcePeer(50002, client);
        return peers.receiveNow() != null;
      });
      shimSession.announcePeer(50003, SERVICE);

      assertThat(peers.receive()).isEqualTo(new PeerNotice(50003, SERVICE));
    }
  }

  @Test
  void aPeersConnectionWithoutSession_isRefused() throws Exception {
    server = start();
    try (RawShim peers = RawShim.peers(server.socketPath(), 87)) {
      assertThat(peers.receive()).isInstanceOf(DaemonError.class);
      assertThatThrownBy(peers::receive).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void aPeersConnectionTheAppDoesNotRead_isClosedRatherThanWaitedFor() throws Exception {
    server = start();
    try (RawShim session = RawShim.welcomedSession(server.socketPath(), 88);
        RawShim peers = RawShim.peers(server.socketPath(), 88)) {
      assertThat(peers.receive()).isEqualTo(new Welcome());
      ShimSession shimSession = handler.opened.get(0);

      // Far more than a socket buffer holds; each call returns at once (it runs on a relay event loop).
      for (int i = 0; i < 200_000; i++) {
        shimSession.announcePeer(i % 65536, SERVICE);
      }

      assertThatThrownBy(() -> {
        while (true) {
          peers.receive();
        }
      }).isInstanceOf(IOException.class); // the notices that fitted, then the end of a connection closed mid-frame
    }
  }

  @Test
  void thePeersConnection_isClosedWithItsSession() throws Exception {
    server = start();
    RawShim session = RawShim.welcomedSession(server.socketPath(), 89);
    try (RawShim peers = RawShim.peers(server.socketPath(), 89)) {
      assertThat(peers.receive()).isEqualTo(new Welcome());
      ShimSession shimSession = handler.opened.get(0);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        shimSession.announcePeer(50004, SERVICE);
        return peers.receiveNow() != null;
      });

      session.close();

      await().atMost(Duration.ofSeconds(10)).until(() -> handler.closed.contains(shimSession));
      assertThatThrownBy(() -> {
        while (true) {
          peers.receive();
        }
      }).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void aHandlerFailure_isAnsweredAsDaemonError_andTheConnectionGoesOn() throws Exception {
    server = start();
    try (RawShim session = RawShim.welcomedSession(server.socketPath(), 81);
        RawShim requests = RawShim.request(server.socketPath(), 81)) {
      assertThat(requests.receive()).isEqualTo(new Welcome());

      ShimMessage answer = requests.ask(new RouteQuery(new InetSocketAddress("10.9.9.9", 9)));

      assertThat(answer).isInstanceOf(DaemonError.class);
      assertThat(((DaemonError) answer).message()).contains("handler exploded");
      assertThat(requests.ask(new RouteQuery(SERVICE))).isEqualTo(new Via(40001));
    }
  }

  @Test
  void aMalformedFrame_closesThatConnectionOnly() throws Exception {
    server = start();
    try (RawShim garbage = RawShim.open(server.socketPath());
        RawShim session = RawShim.welcomedSession(server.socketPath(), 82);
        RawShim requests = RawShim.request(server.socketPath(), 82)) {
      assertThat(requests.receive()).isEqualTo(new Welcome());

      garbage.sendRaw(new byte[] {0, 0, 0, 2, (byte) 0xEE, 1});

      assertThatThrownBy(garbage::receive).isInstanceOf(EOFException.class);
      requests.sendRaw(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
      assertThatThrownBy(requests::receive).isInstanceOf(EOFException.class);
      session.send(new Ping(1)); // the daemon's message, not the shim's
      assertThatThrownBy(session::receive).isInstanceOf(EOFException.class);
      await().atMost(Duration.ofSeconds(10)).until(() -> handler.closed.size() == 1);
    }
    try (RawShim fresh = RawShim.session(server.socketPath(), 83)) {
      assertThat(fresh.receive()).isEqualTo(new Welcome());
    }
  }

  @Test
  void close_dropsEveryConnectionAndTheSocketFile_withoutReportingSessionsClosed() throws Exception {
    server = start();
    try (RawShim session = RawShim.session(server.socketPath(), 84)) {
      session.receive();

      server.close();

      assertThatThrownBy(session::receive).isInstanceOf(IOException.class);
      assertThat(server.socketPath()).doesNotExist();
      assertThat(handler.closed).isEmpty();
    }
  }

  private ShimControlServer start() throws IOException {
    return ShimControlServer.start(tempDir.resolve("shim.sock"), handler);
  }

  /** A handler with fixed answers that records what it was asked. */
  private static final class RecordingHandler implements ShimRequestHandler {
    final List<ShimSession> opened = new CopyOnWriteArrayList<>();
    final List<ShimSession> closed = new CopyOnWriteArrayList<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    volatile boolean pingOnOpen;

    @Override
    public void sessionOpened(ShimSession session) {
      opened.add(session);
      if (pingOnOpen) {
        session.ping(Duration.ofSeconds(5));
      }
    }

    @Override
    public void sessionClosed(ShimSession session) {
      closed.add(session);
    }

    @Override
    public Route route(ShimSession session, InetSocketAddress destination) {
      calls.add("route " + destination + " pid " + session.pid());
      switch (destination.getHostString()) {
        case "10.1.0.5":
          return new Route.Via(40001);
        case "10.1.0.7":
          return new Route.Fail("down");
        case "10.9.9.9":
          throw new IllegalStateException("handler exploded");
        default:
          return new Route.Direct();
      }
    }

    @Override
    public Verdict bind(ShimSession session, InetSocketAddress requested) {
      calls.add("bind " + requested);
      return new Verdict.Ok();
    }

    @Override
    public Verdict listening(ShimSession session, InetSocketAddress requested, int actualPort) {
      calls.add("listening " + requested + " " + actualPort);
      return new Verdict.Fail("taken");
    }

    @Override
    public void unlistened(ShimSession session, InetSocketAddress requested) {
      calls.add("unlistened " + requested);
    }

    @Override
    public Optional<InetSocketAddress> peerOf(ShimSession session, int daemonPort) {
      calls.add("peerOf " + daemonPort);
      return daemonPort == 50000 ? Optional.of(SERVICE) : Optional.empty();
    }
  }

  /** A hand-driven shim connection: blocking, one frame at a time. */
  private static final class RawShim implements AutoCloseable {
    private final SocketChannel channel;
    private final FrameReader reader = new FrameReader();

    private RawShim(SocketChannel channel) {
      this.channel = channel;
    }

    static RawShim open(Path socket) throws IOException {
      return new RawShim(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }

    static RawShim session(Path socket, long pid) throws IOException {
      RawShim shim = open(socket);
      shim.send(new Hello(ConnectionKind.SESSION, pid, "armor-1", "node-a"));
      return shim;
    }

    /** A session whose WELCOME was read: request connections for its pid are accepted from now on. */
    static RawShim welcomedSession(Path socket, long pid) throws IOException {
      RawShim shim = session(socket, pid);
      assertThat(shim.receive()).isEqualTo(new Welcome());
      return shim;
    }

    static RawShim request(Path socket, long pid) throws IOException {
      RawShim shim = open(socket);
      shim.send(new Hello(ConnectionKind.REQUEST, pid, "armor-1", "node-a"));
      return shim;
    }

    static RawShim peers(Path socket, long pid) throws IOException {
      RawShim shim = open(socket);
      shim.send(new Hello(ConnectionKind.PEERS, pid, "armor-1", "node-a"));
      return shim;
    }

    void send(ShimMessage message) throws IOException {
      ShimWire.write(channel, message);
    }

    /** A message that has already arrived, or null; does not wait. */
    ShimMessage receiveNow() throws IOException {
      channel.configureBlocking(false);
      try {
        return reader.read(channel);
      } finally {
        channel.configureBlocking(true);
      }
    }

    void sendRaw(byte[] bytes) throws IOException {
      channel.write(ByteBuffer.wrap(bytes));
    }

    ShimMessage receive() throws IOException {
      return reader.read(channel);
    }

    ShimMessage ask(ShimMessage query) throws IOException {
      send(query);
      return receive();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
