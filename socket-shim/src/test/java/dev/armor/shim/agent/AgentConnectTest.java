package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.shim.control.ShimRequestHandler.Route;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Connects of an unmodified app under the agent, in child JVMs on JDK 17 and 25. */
class AgentConnectTest extends AgentTestSupport {

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void socketConnect_viaRoute_reachesTheDaemonListenerAndStillShowsTheOriginalDestination(Jdk jdk) throws Exception {
    daemon.routes.put(new InetSocketAddress("127.0.0.3", 4242), new Route.Via(relay.port()));

    ChildJvm app = run(jdk, "socket:127.0.0.3:4242");

    assertThat(result(app, "socket")).isEqualTo("OK socket remote=/127.0.0.3:4242 inet=/127.0.0.3 port=4242 reply=relay:ping");
    assertThat(relay.accepted()).isEqualTo(1);
    assertSilent(app);
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void channelConnects_blockingNonBlockingAdaptorAndAsynchronous_viaRoute_areRerouted(Jdk jdk) throws Exception {
    for (int port = 1001; port <= 1004; port++) {
      daemon.routes.put(new InetSocketAddress("127.0.0.4", port), new Route.Via(relay.port()));
    }

    ChildJvm app = run(jdk, "channel:127.0.0.4:1001", "nbchannel:127.0.0.4:1002", "adaptor:127.0.0.4:1003",
        "async:127.0.0.4:1004");

    assertThat(result(app, "channel")).isEqualTo("OK channel remote=/127.0.0.4:1001 reply=relay:ping");
    assertThat(result(app, "nbchannel")).matches("OK nbchannel immediate=(true|false) remote=/127.0.0.4:1002 reply=relay:ping");
    assertThat(result(app, "adaptor")).isEqualTo("OK adaptor remote=/127.0.0.4:1003 reply=relay:ping");
    assertThat(result(app, "async")).isEqualTo("OK async remote=/127.0.0.4:1004 reply=relay:ping");
    assertThat(relay.accepted()).isEqualTo(4);
    assertSilent(app);
  }

  /**
   * Issue 20: a connect to a daemon listener that is gone can draw the listener's port as its own source port and
   * connect the socket to itself. Forced here by binding the app's socket to that port first: every kind of connect
   * must fail as refused, not connect the app to its own bytes (without the check, each reads back its own "ping").
   */
  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aConnectThatMeetsItsOwnSocket_whereTheDaemonListenerIsGone_isRefused_onEveryKindOfConnect(Jdk jdk)
      throws Exception {
    int gone;
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      gone = listener.getLocalPort();
    }
    List<String> kinds = List.of("socket", "channel", "nbchannel", "adaptor", "async");
    List<String> commands = new ArrayList<>(List.of("from:" + gone));
    for (int i = 0; i < kinds.size(); i++) {
      daemon.routes.put(new InetSocketAddress("127.0.0.4", 1101 + i), new Route.Via(gone));
      commands.add(kinds.get(i) + ":127.0.0.4:" + (1101 + i));
    }

    ChildJvm app = run(jdk, commands.toArray(String[]::new));

    String refused = "java.net.ConnectException: Connection refused: the Armor daemon at " + daemon.socket()
        + " for node " + NODE + " does not listen on 127.0.0.1:" + gone + " any more (the connect met its own socket)";
    for (String kind : kinds) {
      assertThat(result(app, kind)).as(app.describe()).startsWith("ERR " + kind).endsWith(refused);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void repeatedConnects_toAViaDestination_askTheDaemonOnce(Jdk jdk) throws Exception {
    InetSocketAddress service = new InetSocketAddress("127.0.0.3", 4343);
    daemon.routes.put(service, new Route.Via(relay.port()));

    ChildJvm app = run(jdk, "socket:127.0.0.3:4343", "channel:127.0.0.3:4343", "socket:127.0.0.3:4343");

    assertThat(app.stdout()).filteredOn(line -> line.startsWith("OK ")).hasSize(3).allMatch(line -> line.endsWith("reply=relay:ping"));
    assertThat(daemon.routeQueries).containsExactly(service);
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void directRoute_connectsToTheRealDestination(Jdk jdk) throws Exception {
    ChildJvm app = run(jdk, "socket:127.0.0.1:" + direct.port(), "nbchannel:127.0.0.1:" + direct.port());

    assertThat(result(app, "socket")).endsWith("reply=direct:ping");
    assertThat(result(app, "nbchannel")).endsWith("reply=direct:ping");
    assertThat(daemon.routeQueries).contains(direct.address());
    assertThat(relay.accepted()).isZero();
    assertSilent(app);
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void failRoute_failsTheConnectWithTheDaemonsMessage(Jdk jdk) throws Exception {
    daemon.routes.put(new InetSocketAddress("127.0.0.3", 4444), new Route.Fail("service orders has no live server"));

    ChildJvm app = run(jdk, "socket:127.0.0.3:4444", "channel:127.0.0.3:4444");

    assertThat(result(app, "socket")).isEqualTo("ERR socket java.net.ConnectException: service orders has no live server");
    assertThat(result(app, "channel")).isEqualTo("ERR channel java.net.ConnectException: service orders has no live server");
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void udpConnect_isNotAskedAbout(Jdk jdk) throws Exception {
    ChildJvm app = run(jdk, "udp:127.0.0.5:5353");

    assertThat(result(app, "udp")).isEqualTo("OK udp remote=/127.0.0.5:5353");
    assertThat(daemon.routeQueries).isEmpty();
    assertSilent(app);
  }
}
