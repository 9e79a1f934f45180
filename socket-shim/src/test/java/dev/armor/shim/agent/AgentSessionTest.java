package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.shim.control.ShimSession;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The session an app's shim holds with its daemon, and the agent's behaviour without one. */
class AgentSessionTest extends AgentTestSupport {

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void session_isOpenedAtStart_answersPings_andEndsWhenTheProcessIsKilled(Jdk jdk) throws Exception {
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs() + ",armor=armor-42", List.of(), Map.of(), "pid", "wait")) {
      ShimSession session = daemon.opened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(session).as(app.describe()).isNotNull();
      assertThat(session.pid()).isEqualTo(app.pid());
      assertThat(session.armorId()).isEqualTo("armor-42");
      assertThat(session.node()).isEqualTo(NODE);
      assertThat(session.ping(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS)).isTrue();

      app.kill();

      assertThat(daemon.closed.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isSameAs(session);
      assertThat(session.isOpen()).isFalse();
      assertThat(session.ping(Duration.ofSeconds(1)).get(10, TimeUnit.SECONDS)).isFalse();
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void armorId_comesFromTheEnvironment_andTheAppsPropertiesAreLeftAlone(Jdk jdk) throws Exception {
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs(), List.of(), Map.of("ARMOR_ARMOR_ID", "armor-from-env"),
        "properties")) {
      assertThat(app.awaitExit()).isZero();
      // Netty's native transports are intercepted (AgentNettyTest), no longer switched off; Byte Buddy's Nexus
      // switch is restored after the shim used it
      assertThat(result(app, "properties")).isEqualTo("OK properties io.netty.transport.noNative=null"
          + " io.grpc.netty.shaded.io.netty.transport.noNative=null net.bytebuddy.nexus.disabled=null");
      ShimSession session = daemon.opened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(session).as(app.describe()).isNotNull();
      assertThat(session.armorId()).isEqualTo("armor-from-env");
      assertSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aProtectedApp_beats_andHaltsWithStatus86WhenItsDaemonGoes(Jdk jdk) throws Exception {
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs() + ",armor=armor-7,heartbeat=50,lease=1000", List.of(),
        Map.of(), "pid", "wait")) {
      assertThat(daemon.opened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as(app.describe()).isNotNull();
      await().atMost(Duration.ofSeconds(ChildJvm.TIMEOUT_SECONDS)).until(() -> daemon.beats.size() >= 3);
      assertThat(daemon.beats).startsWith(1L, 2L, 3L);

      daemon.close();

      assertThat(app.awaitExit()).as(app.describe()).isEqualTo(86);
      // The daemon closing with heartbeats still unread in its receive buffer makes its kernel send a reset rather
      // than a FIN, so the shim may see either way the session ended; and a beat written just after the close meets
      // the closed socket first (Broken pipe: seen once in a CI run, 2026-12-06).
      assertThat(app.stderr()).as(app.describe()).anySatisfy(line -> assertThat(line).matches(
          "armor shim: daemon of node " + NODE + " is gone \\(its control session ended: (end of stream|Connection reset|Broken pipe)\\);"
              + " stopping this protected process so it cannot act as an orphan"));
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void atExit_aProtectedAppBeatsThroughItsOwnShutdownHooks_andExitsWithItsOwnStatus(Jdk jdk) throws Exception {
    // The shim ends its session thread at exit (else the JVM waits 0.3 s for it), but only after the app's hooks:
    // a protected app whose hooks take a while must not look hung meanwhile.
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs() + ",armor=armor-8,heartbeat=50,lease=5000", List.of(),
        Map.of(), "slow-exit:600")) {
      await().atMost(Duration.ofSeconds(ChildJvm.TIMEOUT_SECONDS)).until(() -> app.stdout().contains("HOOK started"));
      int beatsBeforeTheHook = daemon.beats.size();

      assertThat(app.awaitExit()).as(app.describe()).isZero();

      assertThat(app.stdout()).as(app.describe()).endsWith("HOOK done");
      assertThat(daemon.beats.size()).as("beats while the app's hook ran").isGreaterThan(beatsBeforeTheHook + 1);
      assertSilent(app);
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aWrappedApp_neitherBeatsNorHalts_whenItsDaemonGoes(Jdk jdk) throws Exception {
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs() + ",heartbeat=50,lease=200", List.of(), Map.of(), "pid", "wait")) {
      assertThat(daemon.opened.poll(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as(app.describe()).isNotNull();

      daemon.close();

      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(app.pid()).map(ProcessHandle::isAlive).orElse(false));
      app.send("quit");
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      assertThat(daemon.beats).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void missingDaemon_failsConnectsAndBinds_namingTheSocket(Jdk jdk) throws Exception {
    String absent = tempDir.resolve("absent/daemon-shim.sock").toString();
    try (ChildJvm app = ChildJvm.start(jdk, "socket=" + absent + ",node=" + NODE, List.of(), Map.of(),
        "socket:127.0.0.1:" + direct.port(), "serve-socket:0.0.0.0:17010")) {
      assertThat(app.awaitExit()).isZero();
      String notReachable = "The Armor daemon at " + absent + " for node " + NODE + " is not reachable";
      assertThat(result(app, "socket")).startsWith("ERR socket java.net.ConnectException: " + notReachable);
      assertThat(result(app, "serve-socket")).startsWith("ERR serve-socket java.net.BindException: " + notReachable);
      assertThat(direct.accepted()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void withoutASocketArgument_theAgentIsInert(Jdk jdk) throws Exception {
    for (String args : new String[] {null, "node=" + NODE}) {
      try (ChildJvm app = ChildJvm.start(jdk, args, List.of(), Map.of(), "classes", "socket:127.0.0.1:" + direct.port())) {
        assertThat(app.awaitExit()).isZero();
        assertThat(result(app, "classes")).endsWith("hooks=false");
        assertThat(result(app, "socket")).endsWith("reply=direct:ping");
        assertThat(app.stdout()).hasSize(3);
        assertSilent(app);
      }
    }
    assertThat(daemon.opened).isEmpty();
    assertThat(daemon.routeQueries).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void badArguments_areReported_andTheAppRunsWithoutTheShim(Jdk jdk) throws Exception {
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs() + ",timeout=soon", List.of(), Map.of(),
        "socket:127.0.0.1:" + direct.port())) {
      assertThat(app.awaitExit()).isZero();
      assertThat(result(app, "socket")).endsWith("reply=direct:ping");
      assertThat(String.join("\n", app.stderr()))
          .contains("the Armor socket shim could not start; this app's sockets are NOT rerouted through Armor")
          .contains("agent argument timeout must be a positive number of milliseconds, but was 'soon'");
    }
    assertThat(daemon.opened).isEmpty();
  }
}
