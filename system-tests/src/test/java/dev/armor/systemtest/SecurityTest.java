package dev.armor.systemtest;

import static dev.armor.systemtest.ArmorTestCluster.appCommand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.control.StatusRequest;
import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import dev.armor.systemtest.apps.LineEchoServer;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.security.Role;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nobody without the cluster's credentials gets in (issue 15), played against a real cluster started as the README
 * says: control calls without a certificate of the cluster, a read-only certificate that tries to launch, processes
 * that try to join the cluster without a node certificate, and garbage on the cluster ports. After each, the
 * protected app still answers a real client, and no Armor process logged more than a few lines about it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SecurityTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.19";
  private static final int CLUSTER_PORT = 25819;
  private static final int SERVICE_PORT = 7219;

  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @TempDir static Path strangerHome;

  @BeforeAll
  static void startCluster() throws Exception {
    // Every Armor JVM with a 256 MiB heap, as an operator might size them: a PING flood once took such a daemon down.
    cluster = ArmorTestCluster.start("security", SUBNET, 7819, CLUSTER_PORT, 1, List.of(), List.of(),
        Map.of("ARMOR_JVM_OPTS", "-Xmx256m"));
    cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "" + SERVICE_PORT));
    Pki.at(strangerHome).initialize();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void controlCallsWithoutACertificateOfTheClusterAreRefused() throws Exception {
    Map<Path, Long> before = logLines();
    ChannelCredentials stranger = Pki.at(strangerHome).person().channelCredentials();
    for (ChannelCredentials credentials : List.of(InsecureChannelCredentials.create(), stranger)) {
      assertThatThrownBy(() -> launchAs(credentials))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    assertThat(cluster.status().getNodesList()).flatExtracting(n -> n.getProcessesList()).as("nothing was launched")
        .allSatisfy(p -> assertThat(p.getCommandList()).doesNotContain("id"));
    assertStillServing();
    assertFewNewLogLines(before);
  }

  @Test
  void aReaderMayReadStatusButNotLaunch() throws Exception {
    Credentials reader = Pki.at(cluster.home()).credentials(Identity.READER);
    ManagedChannel channel = Grpc.newChannelBuilder(cluster.ftm(), reader.channelCredentials()).build();
    try {
      var stub = ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
      // a caller asking for its arguments to be shown is still a reader
      var seen = stub.status(StatusRequest.newBuilder().setHideArguments(false).build());
      assertThat(seen.getNodesList()).extracting(n -> n.getNode()).containsExactly("n1");
      // command lines cut to the program's name for a reader (they may carry secrets), shown in full to the operator
      assertThat(seen.getNodes(0).getProcessesList()).isNotEmpty().allSatisfy(process ->
          assertThat(process.getCommandList()).containsExactly("java", "(4 arguments hidden from readers)"));
      assertThat(seen.toString()).doesNotContain(LineEchoServer.class.getName()).doesNotContain("-cp");
      assertThat(cluster.status().getNodes(0).getProcesses(0).getCommandList()).contains("-cp",
          LineEchoServer.class.getName());
      assertThatThrownBy(() -> stub.launch(LaunchRequest.newBuilder().setNode("n1").addCommand("/bin/true").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).isEqualTo(
                "Launch needs the operator role; reader \"armor reader\" has the reader role");
          });
    } finally {
      channel.shutdownNow();
    }
    // The operator (the CLI, with the certificate the first FTM made) launches, and the FTM logs who asked.
    String launched = cluster.launchServer("n1", appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "7220"));
    assertThat(launched).isNotBlank();
    assertThat(Files.readString(ftmLog())).contains("requested by operator \"armor operator\"");
  }

  /**
   * Three processes try to join as nodes: one without TLS, one with a node certificate of another cluster, one with
   * this cluster's operator certificate (not a node's). A fourth, with a node certificate of this cluster, joins the
   * same way at the same time: once it is up, the others have had as long, and none of them is a member.
   */
  @Test
  void onlyANodeCertificateOfTheClusterJoins() throws Exception {
    Map<Path, Long> before = logLines();
    Pki pki = Pki.at(cluster.home());
    Credentials operator = pki.credentials(Identity.OPERATOR);
    Credentials strangerNode = Pki.at(strangerHome).credentials(Identity.node("evil"));
    List<ActorSystem<Void>> impostors = new ArrayList<>();
    ActorSystem<Void> probe = null;
    try {
      impostors.add(node(SUBNET + ".20", null));
      impostors.add(node(SUBNET + ".21", strangerNode));
      impostors.add(node(SUBNET + ".22",
          new Credentials(Identity.node("evil2"), operator.certificate(), operator.key(), operator.ca())));
      probe = node(SUBNET + ".23", pki.credentials(Identity.node("probe")));
      Cluster probeCluster = Cluster.get(probe);
      Awaitility.await("a node with this cluster's node certificate joins").atMost(Duration.ofSeconds(60))
          .until(() -> probeCluster.selfMember().status() == MemberStatus.up());
      List<String> members = new ArrayList<>();
      probeCluster.state().getMembers().forEach(m -> members.add(m.address().host().get()));
      assertThat(members).containsExactlyInAnyOrder(SUBNET + ".1", SUBNET + ".2", SUBNET + ".23");
      for (ActorSystem<Void> impostor : impostors) {
        assertThat(Cluster.get(impostor).selfMember().status()).as("%s", impostor.address())
            .isNotEqualTo(MemberStatus.up());
      }
    } finally {
      impostors.forEach(ActorSystem::terminate);
      if (probe != null) {
        Cluster.get(probe).manager().tell(org.apache.pekko.cluster.typed.Leave.create(Cluster.get(probe).selfMember().address()));
        probe.terminate();
      }
    }
    assertStillServing();
    assertFewNewLogLines(before);
  }

  /**
   * A host holding a node certificate of the cluster (here "visitor") cannot register its daemon under another name
   * ("ghost"): the FTM takes a registration only under the name on the certificate the member showed when the FTM's
   * node connected to it.
   */
  @Test
  void aDaemonRegistersOnlyUnderTheNameOnItsCertificate() throws Exception {
    Path impostorHome = Files.createTempDirectory("armor-impostor-");
    try {
      cluster.armorOk(Duration.ofSeconds(60), "enrol", "--node", "visitor", "--out", impostorHome.toString());
      Path nodes = impostorHome.resolve("pki").resolve("nodes");
      Files.move(nodes.resolve("visitor.crt"), nodes.resolve("ghost.crt"));
      Files.move(nodes.resolve("visitor.key"), nodes.resolve("ghost.key"));
      Map<Path, Long> before = logLines();
      ArmorTestCluster.CliResult started = ArmorTestCluster.armor(impostorHome, cluster.ftm(), Duration.ofSeconds(120),
          "daemon", "--node", "ghost", "--host", SUBNET + ".31", "--join", cluster.ftm(), "--cluster-port",
          "" + CLUSTER_PORT, "--detach");

      assertThat(started.exit()).as("ghost: %s", started.out()).isNotZero();
      assertThat(started.out()).contains("registration refused: cluster member " + SUBNET + ".31:" + CLUSTER_PORT
          + " showed the certificate of node visitor, not of node ghost");
      assertThat(cluster.status().getNodesList()).extracting(node -> node.getNode()).containsExactly("n1");
      assertStillServing();
      assertFewNewLogLines(before);
    } finally {
      ArmorTestCluster.deleteHome(impostorHome);
    }
  }

  /**
   * A daemon started under a live node's name, with that node's own certificate (a copy taken to another host, or the
   * same node started twice), joins the cluster but is refused as that node: before, the FTM took it for a restart of
   * the node and moved the node's work to it while the node ran on (two instances of every service).
   */
  @Test
  void aSecondDaemonUnderALiveNodesNameIsRefused_andTheNodeKeepsItsWork() throws Exception {
    Path impostorHome = Files.createTempDirectory("armor-impostor-");
    try {
      cluster.armorOk(Duration.ofSeconds(60), "enrol", "--node", "n1", "--out", impostorHome.toString());
      Map<Path, Long> before = logLines();
      ArmorTestCluster.CliResult started = ArmorTestCluster.armor(impostorHome, cluster.ftm(), Duration.ofSeconds(120),
          "daemon", "--node", "n1", "--host", SUBNET + ".30", "--join", cluster.ftm(), "--cluster-port",
          "" + CLUSTER_PORT, "--detach");

      assertThat(started.exit()).as("the second n1: %s", started.out()).isNotZero();
      assertThat(started.out()).contains("registration refused: node n1 is held by a live cluster member at "
          + SUBNET + ".2:" + CLUSTER_PORT);
      assertThat(Files.readString(ftmLog())).contains("FTM: refused the registration of a daemon as node n1 from"
          + " cluster member " + SUBNET + ".30:" + CLUSTER_PORT);
      var n1 = cluster.status().getNodesList().stream().filter(node -> node.getNode().equals("n1")).findFirst()
          .orElseThrow();
      assertThat(n1.getHost()).as("n1 is still the node at its own address").isEqualTo(SUBNET + ".2");
      assertStillServing();
      assertFewNewLogLines(before);
    } finally {
      ArmorTestCluster.deleteHome(impostorHome);
    }
  }

  /**
   * Nine bytes that start an endless decode loop in Pekko's inbound framing (a frame header with a negative length,
   * on each of Artery's streams), and idle connections that never speak, on the FTM's and the daemon's cluster
   * ports: they never get past the TLS handshake.
   */
  @Test
  void garbageAndIdleConnectionsOnTheClusterPortsAreRefusedQuietly() throws Exception {
    Map<Path, Long> before = logLines();
    List<Socket> idle = new ArrayList<>();
    try {
      for (String host : List.of(SUBNET + ".1", SUBNET + ".2")) {
        for (int stream = 1; stream <= 3; stream++) {
          try (Socket socket = new Socket(host, CLUSTER_PORT)) {
            OutputStream out = socket.getOutputStream();
            out.write(new byte[] {'A', 'K', 'K', 'A', (byte) stream});
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).array());
            out.flush();
            socket.setSoTimeout(10_000);
            try {
              // A TLS alert at most, then the end: the node closes the connection.
              while (socket.getInputStream().read(new byte[256]) >= 0) {
                continue;
              }
            } catch (java.net.SocketTimeoutException e) {
              throw new AssertionError(host + " kept a connection that sent garbage open for 10 s", e);
            } catch (IOException e) {
              // reset: refused too
            }
          }
        }
        for (int i = 0; i < 20; i++) {
          idle.add(new Socket(host, CLUSTER_PORT));
        }
      }
      assertStillServing();
    } finally {
      for (Socket socket : idle) {
        socket.close();
      }
    }
    assertFewNewLogLines(before);
  }

  /**
   * A node of the cluster gone bad (its certificate is the cluster's: nothing stops it at the handshake) floods the
   * daemon's data port with HTTP/2 PINGs and never reads the answers: the daemon cuts it off after a bounded queue of
   * unsent answers (Netty's control-frame limit, sized for the links), well before the flood could fill its 256 MiB
   * heap, logs it once, and serves on.
   */
  @Test
  void aPingFloodFromANodeGoneBad_isCutOff_andTheDaemonServesOn() throws Exception {
    long daemonPid = cluster.nodePid("daemon-n1");
    InetSocketAddress data = hostAndPort(node("n1").getDataAddress());
    SSLContext insider = Pki.at(cluster.home()).credentials(Identity.node("insider")).sslContext(EnumSet.of(Role.NODE));
    Map<Path, Long> before = logLines();
    long limit = 64L << 20;

    long sent = CompletableFuture.supplyAsync(() -> {
      try (SSLSocket socket = (SSLSocket) insider.getSocketFactory().createSocket()) {
        socket.setReceiveBufferSize(4096); // the answers back up at once
        socket.connect(data, 10_000);
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS, empty
        byte[] pings = new byte[17 * 4096];
        for (int i = 0; i < pings.length; i += 17) {
          pings[i + 2] = 8; // length 8
          pings[i + 3] = 6; // PING, no flags, stream 0, then 8 bytes of payload
        }
        long written = 0;
        while (written < limit) {
          try {
            out.write(pings);
          } catch (IOException cutOff) {
            System.out.println(java.time.LocalTime.now() + " PING flood cut off: " + cutOff);
            return written;
          }
          written += pings.length;
        }
        return written;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).get(2, TimeUnit.MINUTES);

    System.out.printf("the daemon cut the PING flood off after %d KiB%n", sent >> 10);
    assertThat(sent).as("bytes of PINGs the daemon took before it cut the flood off").isLessThan(limit);
    assertThat(ProcessHandle.of(daemonPid).map(ProcessHandle::isAlive)).as("daemon n1 alive").contains(true);
    assertStillServing();
    Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(daemonLog("n1"))
        .contains("ENHANCE_YOUR_CALM"));
    assertFewNewLogLines(before);
  }

  /**
   * Slowloris on every port a process of Armor listens on besides the cluster ports: connections that never speak and
   * one that sends a byte every second, to the control API, the FTM channel, the daemon's data port and its shim
   * socket. Each is closed within its handshake's (or HELLO's) time, however it trickles, and the service answers
   * meanwhile.
   */
  @Test
  void idleAndTricklingConnectionsOnEveryPort_areClosedInTime_andTheServiceAnswers() throws Exception {
    NodeStatus n1 = node("n1");
    Map<String, java.net.SocketAddress> ports = new java.util.LinkedHashMap<>();
    ports.put("control API", hostAndPort(cluster.ftm()));
    ports.put("FTM channel", hostAndPort(ftmChannel()));
    ports.put("data port", hostAndPort(n1.getDataAddress()));
    ports.put("shim socket", java.net.UnixDomainSocketAddress.of(n1.getShimSocket()));
    Map<Path, Long> before = logLines();
    List<CompletableFuture<String>> closed = new ArrayList<>();
    List<SocketChannel> opened = new ArrayList<>();
    try {
      for (Map.Entry<String, java.net.SocketAddress> port : ports.entrySet()) {
        for (int i = 0; i < 10; i++) {
          SocketChannel idle = SocketChannel.open(port.getValue());
          opened.add(idle);
          closed.add(closedWithin(port.getKey() + " idle connection " + i, idle, null));
        }
        SocketChannel trickling = SocketChannel.open(port.getValue());
        opened.add(trickling);
        // a TLS record header announcing a ClientHello of 512 bytes, then zeros, one a second
        closed.add(closedWithin(port.getKey() + " trickling connection", trickling, new byte[] {0x16, 3, 1, 2, 0}));
      }
      assertStillServing();
      for (CompletableFuture<String> each : closed) {
        assertThat(each.get(40, TimeUnit.SECONDS)).isEmpty();
      }
    } finally {
      for (SocketChannel channel : opened) {
        channel.close();
      }
    }
    assertStillServing();
    assertFewNewLogLines(before);
  }

  /**
   * {@code armor run --user nobody}: the app runs as that user (not as the daemon's root), its shim reaches the daemon
   * through a socket of its user's own, it is restarted as that user after a crash while its client's connection
   * carries on, and another user cannot even see that socket.
   */
  @Test
  void anAppRunAsAnotherUser_runsAsThatUser_isRecovered_andOtherUsersCannotReachItsSocket() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "armor run --user needs a daemon running as root");
    int port = SERVICE_PORT + 10;
    String armorId = cluster.launchServer("n1", List.of("--user", "nobody"),
        appCommand(ArmorTestCluster.JDK17, LineEchoServer.class.getName(), "" + port));
    long pid = cluster.pidOf(armorId);
    assertThat(ProcessHandle.of(pid).flatMap(p -> p.info().user())).contains("nobody");

    try (Socket client = new Socket(SUBNET + ".2", port)) {
      client.setSoTimeout(30_000);
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(),
          java.nio.charset.StandardCharsets.US_ASCII));
      client.getOutputStream().write("before\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(in.readLine()).contains("before");
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
        try {
          return cluster.pidOf(armorId) != pid;
        } catch (RuntimeException e) {
          return false; // between the crash and the restart
        }
      });
      long restarted = cluster.pidOf(armorId);
      assertThat(ProcessHandle.of(restarted).flatMap(p -> p.info().user())).contains("nobody");
      client.getOutputStream().write("after\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(in.readLine()).contains("after");
    }

    java.util.regex.Matcher socket = java.util.regex.Pattern.compile("shim socket for the apps of user nobody at (\\S+)")
        .matcher(daemonLog("n1"));
    assertThat(socket.find()).as("the daemon logs the socket it made for user nobody").isTrue();
    Path directory = Path.of(socket.group(1)).getParent();
    Process stranger = new ProcessBuilder("setpriv", "--reuid=daemon", "--regid=daemon", "--clear-groups", "--",
        "ls", directory.toString()).redirectErrorStream(true).start();
    String said = new String(stranger.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(stranger.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(stranger.exitValue()).as("user daemon lists %s: %s", directory, said).isNotZero();
    assertThat(said).contains("Permission denied");
  }

  /**
   * Reads {@code channel} until the other end closes it, writing {@code trickle} and then a zero a second meanwhile
   * (none: silent); completes with "" when closed within 25 s (handshakes and HELLOs have 10), else with what
   * happened.
   */
  private static CompletableFuture<String> closedWithin(String what, SocketChannel channel, byte[] trickle) {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(25);
    CompletableFuture<String> result = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(4096);
      try {
        while (channel.read(buffer.clear()) >= 0) {
          continue; // a TLS alert, say: the end comes next
        }
      } catch (IOException e) {
        // reset: closed too
      }
      long took = System.nanoTime() - start;
      result.complete(took <= deadline - start ? "" : what + " was closed only after " + took / 1_000_000 + " ms");
    }, "slowloris-reader");
    reader.setDaemon(true);
    reader.start();
    if (trickle != null) {
      Thread writer = new Thread(() -> {
        try {
          channel.write(java.nio.ByteBuffer.wrap(trickle));
          while (!result.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            channel.write(java.nio.ByteBuffer.wrap(new byte[1]));
          }
        } catch (IOException | InterruptedException e) {
          // closed by the other end: what the reader waits for
        }
      }, "slowloris-writer");
      writer.setDaemon(true);
      writer.start();
    }
    return result.completeOnTimeout(what + " still open after 30 s", 30, TimeUnit.SECONDS);
  }

  private static NodeStatus node(String name) {
    return cluster.status().getNodesList().stream().filter(n -> n.getNode().equals(name)).findFirst().orElseThrow();
  }

  private static InetSocketAddress hostAndPort(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  /** The FTM channel's address, as the FTM logs it when it starts listening. */
  private static String ftmChannel() throws IOException {
    java.util.regex.Matcher listening = java.util.regex.Pattern.compile("FTM channel listening on (\\S+)")
        .matcher(Files.readString(ftmLog()));
    assertThat(listening.find()).as("the FTM logs its channel's address").isTrue();
    return listening.group(1);
  }

  private static String daemonLog(String node) throws IOException {
    try (var files = Files.list(cluster.home().resolve("logs"))) {
      StringBuilder all = new StringBuilder();
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("daemon-" + node)).toList()) {
        all.append(Files.readString(file));
      }
      return all.toString();
    }
  }

  private void launchAs(ChannelCredentials credentials) {
    ManagedChannel channel = Grpc.newChannelBuilder(cluster.ftm(), credentials).build();
    try {
      ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
          .launch(LaunchRequest.newBuilder().setNode("n1").addCommand("/bin/sh").addCommand("-c").addCommand("id").build());
    } finally {
      channel.shutdownNow();
    }
  }

  /** A Pekko node in this JVM at {@code host}, joining the cluster's FTM, with these credentials (null: no TLS). */
  private static ActorSystem<Void> node(String host, Credentials credentials) {
    List<String> seeds = List.of(ClusterNodeConfig.address(SUBNET + ".1", CLUSTER_PORT));
    Config config = credentials == null
        ? ClusterNodeConfig.buildInsecure(host, CLUSTER_PORT, seeds, List.of("daemon"))
        : ClusterNodeConfig.build(host, CLUSTER_PORT, seeds, List.of("daemon"), null, credentials);
    // Not the test JVM's end when this node is shut down or refused.
    return ActorSystem.create(Behaviors.empty(), ClusterNodeConfig.SYSTEM_NAME,
        ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off\npekko.loglevel = WARNING").withFallback(config));
  }

  /**
   * A real client gets its echo: an unwrapped one, at the service address (the server node's daemon answers any client
   * there), which spares a JVM start per check.
   */
  private static void assertStillServing() throws Exception {
    try (Socket client = new Socket(SUBNET + ".2", SERVICE_PORT)) {
      client.setSoTimeout(30_000);
      client.getOutputStream().write("still there?\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String echo = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(),
          java.nio.charset.StandardCharsets.US_ASCII)).readLine();
      assertThat(echo).contains("still there?");
    }
  }

  private static Path ftmLog() {
    return cluster.home().resolve("logs").resolve("ftm-" + SUBNET + ".1-7819.log");
  }

  private static Map<Path, Long> logLines() throws IOException {
    try (var files = Files.list(cluster.home().resolve("logs"))) {
      return files.filter(f -> f.getFileName().toString().matches("(ftm|daemon)-.*\\.log"))
          .collect(Collectors.toMap(f -> f, SecurityTest::lines));
    }
  }

  private static long lines(Path file) {
    try (var lines = Files.lines(file)) {
      return lines.count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** An attack may be logged, once or a few times, never as a storm (the framing bug wrote ~100k lines a second). */
  private static void assertFewNewLogLines(Map<Path, Long> before) {
    before.forEach((file, lines) -> assertThat(lines(file) - lines).as("new lines in %s", file.getFileName())
        .isLessThan(40));
  }
}
