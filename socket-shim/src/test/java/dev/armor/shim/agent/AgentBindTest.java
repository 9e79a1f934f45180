package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.shim.agent.FakeDaemon.ListeningReport;
import dev.armor.shim.control.ShimRequestHandler.Verdict;
import dev.armor.shim.control.ShimSession;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Listening sockets of an unmodified app under the agent, in child JVMs on JDK 17 and 25. */
class AgentBindTest extends AgentTestSupport {

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void serverSocketBind_isReroutedToLoopback_reportsTheRealPort_andShowsTheRequestedOne(Jdk jdk) throws Exception {
    try (ChildJvm app = start(jdk, "serve-socket:0.0.0.0:17001", "wait")) {
      assertThat(app.awaitLine("OK serve-socket"))
          .isEqualTo("OK serve-socket localPort=17001 inet=/0.0.0.0 local=/0.0.0.0:17001");
      ListeningReport report = awaitListening(app);
      assertThat(report.requested()).isEqualTo(new InetSocketAddress("0.0.0.0", 17001));
      assertThat(report.pid()).isEqualTo(app.pid());

      assertThat(connectAsDaemon(report.actualPort(), 5555)).isEqualTo("app:ping");
      assertThat(app.awaitLine("ACCEPTED serve-socket"))
          .isEqualTo("ACCEPTED serve-socket peer=/" + REMOTE_CLIENT + ":5555 localPort=17001 local=/" + NODE_ADDRESS
              + ":17001"); // the service address the client connected to, not the rerouted listener's loopback one
      assertSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void serverSocketChannelBind_isReroutedToLoopback_reportsTheRealPort_andShowsTheRequestedOne(Jdk jdk) throws Exception {
    try (ChildJvm app = start(jdk, "serve-channel:0.0.0.0:17002", "wait")) {
      assertThat(app.awaitLine("OK serve-channel")).isEqualTo("OK serve-channel local=/0.0.0.0:17002 localPort=17002");
      ListeningReport report = awaitListening(app);
      assertThat(report.requested()).isEqualTo(new InetSocketAddress("0.0.0.0", 17002));

      assertThat(connectAsDaemon(report.actualPort(), 5556)).isEqualTo("app:ping");
      assertThat(app.awaitLine("ACCEPTED serve-channel")).isEqualTo("ACCEPTED serve-channel peer=/" + REMOTE_CLIENT
          + ":5556 localPort=17002 local=/" + NODE_ADDRESS + ":17002 socketLocal=/" + NODE_ADDRESS + ":17002");
      assertSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void asynchronousServerChannelBind_isReroutedToLoopback_reportsTheRealPort_andShowsTheRequestedOne(Jdk jdk)
      throws Exception {
    try (ChildJvm app = start(jdk, "serve-async:0.0.0.0:17009", "wait")) {
      assertThat(app.awaitLine("OK serve-async")).isEqualTo("OK serve-async local=/0.0.0.0:17009");
      ListeningReport report = awaitListening(app);
      assertThat(report.requested()).isEqualTo(new InetSocketAddress("0.0.0.0", 17009));
      assertThat(report.pid()).isEqualTo(app.pid());

      assertThat(connectAsDaemon(report.actualPort(), 5559)).isEqualTo("app:ping");
      assertThat(app.awaitLine("ACCEPTED serve-async")).isEqualTo("ACCEPTED serve-async peer=/" + REMOTE_CLIENT
          + ":5559 local=/" + NODE_ADDRESS + ":17009");
      assertSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aConnectionAcceptedOnAListenerBoundToOneAddress_reportsThatAddress(Jdk jdk) throws Exception {
    try (ChildJvm app = start(jdk, "serve-socket:127.0.0.44:17011", "wait")) {
      ListeningReport report = awaitListening(app);
      assertThat(connectAsDaemon(report.actualPort(), 5560)).isEqualTo("app:ping");
      assertThat(app.awaitLine("ACCEPTED serve-socket")).endsWith(" localPort=17011 local=/127.0.0.44:17011");
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anAnnouncedPeer_isReportedWithoutAskingTheDaemon(Jdk jdk) throws Exception {
    try (ChildJvm app = start(jdk, "serve-socket:0.0.0.0:17007", "serve-channel:0.0.0.0:17008", "wait")) {
      ListeningReport socketReport = awaitListening(app);
      ListeningReport channelReport = awaitListening(app);
      ShimSession session = daemon.opened.stream().filter(s -> s.pid() == app.pid()).findFirst().orElseThrow();

      assertThat(connectAnnounced(session, socketReport.actualPort(), 5557)).isEqualTo("app:ping");
      assertThat(connectAnnounced(session, channelReport.actualPort(), 5558)).isEqualTo("app:ping");

      assertThat(app.awaitLine("ACCEPTED serve-socket")).startsWith("ACCEPTED serve-socket peer=/" + REMOTE_CLIENT + ":5557 ");
      assertThat(app.awaitLine("ACCEPTED serve-channel")).startsWith("ACCEPTED serve-channel peer=/" + REMOTE_CLIENT + ":5558 ");
      assertThat(daemon.peerQueries).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void listeningRefusedByTheDaemon_failsWithBindException_afterOneQuestionPerBind(Jdk jdk) throws Exception {
    daemon.listeningVerdict = new Verdict.Fail("port 17004 belongs to app billing");

    ChildJvm app = run(jdk, "serve-socket:127.0.0.1:17004", "serve-channel:127.0.0.1:17004");

    assertThat(result(app, "serve-socket")).isEqualTo("ERR serve-socket java.net.BindException: port 17004 belongs to app billing");
    assertThat(result(app, "serve-channel")).isEqualTo("ERR serve-channel java.net.BindException: port 17004 belongs to app billing");
    // The daemon decides when the app listens; the shim no longer asks bind(requested) first (one round trip saved).
    assertThat(daemon.listening).extracting(ListeningReport::requested)
        .containsExactly(new InetSocketAddress("127.0.0.1", 17004), new InetSocketAddress("127.0.0.1", 17004));
    assertThat(daemon.bindQueries).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void bindToPortZero_isLeftAlone_andClosingAReroutedListenerIsReported(Jdk jdk) throws Exception {
    ChildJvm app = run(jdk, "serve-socket:127.0.0.1:0", "serve-channel:127.0.0.1:17006", "serve-async:127.0.0.1:0",
        "serve-async:127.0.0.1:17010", "close-servers");

    assertThat(result(app, "serve-socket")).doesNotContain("localPort=0 ").startsWith("OK serve-socket localPort=");
    assertThat(daemon.listening).extracting(ListeningReport::requested)
        .containsExactly(new InetSocketAddress("127.0.0.1", 17006), new InetSocketAddress("127.0.0.1", 17010));
    assertThat(List.of(daemon.unlistened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS),
            daemon.unlistened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS)))
        .containsExactlyInAnyOrder(new InetSocketAddress("127.0.0.1", 17006), new InetSocketAddress("127.0.0.1", 17010));
    assertThat(daemon.unlistened.poll(200, TimeUnit.MILLISECONDS)).as("each closed listener reported once").isNull();
  }

  private ListeningReport awaitListening(ChildJvm app) throws InterruptedException {
    ListeningReport report = daemon.listening.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(report).as("listening report\n" + app.describe()).isNotNull();
    assertThat(report.actualPort()).isNotIn(0, report.requested().getPort());
    return report;
  }

  /** As {@link #connectAsDaemon}, but announcing the client on the app's PEERS connection, as the relay does. */
  private String connectAnnounced(ShimSession session, int actualPort, int clientPort) throws Exception {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      session.announcePeer(socket.getLocalPort(), new InetSocketAddress(REMOTE_CLIENT, clientPort));
      socket.connect(new InetSocketAddress("127.0.0.1", actualPort), 5000);
      new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8).println("ping");
      return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }
  }
}
