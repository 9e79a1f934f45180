package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.shim.control.ShimRequestHandler.Route;
import dev.armor.shim.control.ShimRequestHandler.Verdict;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 14: Netty's epoll transport, whose sockets live in C, under the agent, in child JVMs on JDK 17 and 25. The
 * probe app requires epoll (no NIO fallback): its listener is rerouted and registered like a JDK one, reports the
 * address the app asked for and the real client, and its connects go where the daemon says.
 */
class AgentNettyTest extends AgentTestSupport {

  /** The probe app with Netty (this module's test dependency) on its class path. */
  private ChildJvm startWithNetty(Jdk jdk, String... commands) throws IOException {
    List<String> netty = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> entry.contains("netty")).toList();
    assertThat(netty).as("Netty's jars on the test class path").isNotEmpty();
    return ChildJvm.start(jdk, agentArgs(), List.of(), netty, Map.of(), commands);
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anEpollListener_isReroutedAndRegistered_andShowsTheRequestedAddressAndTheRealClient(Jdk jdk) throws Exception {
    try (ChildJvm app = startWithNetty(jdk, "netty-serve:0.0.0.0:17021", "wait")) {
      assertThat(app.awaitLine("OK netty-serve")).as(app.describe()).isEqualTo("OK netty-serve local=/0.0.0.0:17021");
      FakeDaemon.ListeningReport report = daemon.listening.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(report).as("listening report\n" + app.describe()).isNotNull();
      assertThat(report.requested()).isEqualTo(new InetSocketAddress("0.0.0.0", 17021));
      assertThat(report.pid()).isEqualTo(app.pid());
      assertThat(report.actualPort()).isNotIn(0, 17021);

      assertThat(connectAsDaemon(report.actualPort(), 5571)).isEqualTo("app:ping");
      assertThat(app.awaitLine("ACCEPTED netty-serve")).isEqualTo("ACCEPTED netty-serve peer=/" + REMOTE_CLIENT
          + ":5571 local=/" + NODE_ADDRESS + ":17021"); // the service address, not the rerouted loopback listener
      assertShimSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anEpollConnect_viaRoute_reachesTheDaemonListener_andStillShowsTheOriginalDestination(Jdk jdk) throws Exception {
    daemon.routes.put(new InetSocketAddress("127.0.0.5", 4243), new Route.Via(relay.port()));

    try (ChildJvm app = startWithNetty(jdk, "netty-connect:127.0.0.5:4243")) {
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      assertThat(result(app, "netty-connect")).endsWith("127.0.0.5:4243 reply=relay:ping")
          .doesNotContain(":" + relay.port());
      assertThat(relay.accepted()).isEqualTo(1);
      assertShimSilent(app);
    }
  }

  /**
   * Issue 20 on Netty's connects: a connect to a daemon listener that is gone, from that very port (bound first, as
   * a client may: the shim leaves a client channel's bind alone), connects the socket to itself; it must fail as
   * refused, not hand the app its own bytes.
   */
  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anEpollConnectThatMeetsItsOwnSocket_whereTheDaemonListenerIsGone_isRefused(Jdk jdk) throws Exception {
    int gone;
    try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      gone = listener.getLocalPort();
    }
    daemon.routes.put(new InetSocketAddress("127.0.0.4", 1201), new Route.Via(gone));

    try (ChildJvm app = startWithNetty(jdk, "from:" + gone, "netty-connect:127.0.0.4:1201")) {
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      assertThat(result(app, "netty-connect")).as(app.describe()).startsWith("ERR netty-connect ")
          .contains("ConnectException: Connection refused: the Armor daemon at " + daemon.socket() + " for node "
              + NODE + " does not listen on 127.0.0.1:" + gone + " any more (the connect met its own socket)");
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void closingAnEpollListener_isReported_andABindTheDaemonRefusesFailsTheAppsBind(Jdk jdk) throws Exception {
    try (ChildJvm app = startWithNetty(jdk, "netty-serve:127.0.0.1:17022", "close-servers")) {
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      assertThat(daemon.listening.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS).requested())
          .isEqualTo(new InetSocketAddress("127.0.0.1", 17022));
      assertThat(daemon.unlistened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .isEqualTo(new InetSocketAddress("127.0.0.1", 17022));
    }
    daemon.listeningVerdict = new Verdict.Fail("127.0.0.1:17023 is served by another app");
    try (ChildJvm app = startWithNetty(jdk, "netty-serve:127.0.0.1:17023")) {
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      assertThat(result(app, "netty-serve"))
          .isEqualTo("ERR netty-serve java.net.BindException: 127.0.0.1:17023 is served by another app");
    }
  }

  /** The shim says nothing; Netty itself warns on JDK 25 (its {@code Unsafe} and native-library calls). */
  private static void assertShimSilent(ChildJvm app) {
    assertThat(app.stderr()).as(app.describe()).noneMatch(line -> line.contains("Armor") || line.contains("armor"));
  }
}
