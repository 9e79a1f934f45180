package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.shim.control.ShimRequestHandler.Route;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The agent brings no classes into the app: only its entry class is visible, and the app's libraries win. */
class AgentIsolationTest extends AgentTestSupport {

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void theAgentJar_showsTheAppOnlyItsEntryClass(Jdk jdk) throws Exception {
    ChildJvm app = run(jdk, "classes");

    assertThat(result(app, "classes")).isEqualTo("OK classes net.bytebuddy.ByteBuddy=false"
        + " dev.armor.shim.internal.ShimRuntime=false dev.armor.shim.control.ShimWire=false dev.armor.shim.Agent=true"
        + " hooks=true");
    assertSilent(app);
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anAppWithItsOwnByteBuddy_usesItsOwn_andIsStillRerouted(Jdk jdk) throws Exception {
    Path appByteBuddy = Path.of(System.getProperty("armor.shim.appByteBuddyJar", "target/app-libs/app-byte-buddy.jar"));
    assumeTrue(Files.isRegularFile(appByteBuddy),
        "byte-buddy " + System.getProperty("armor.shim.appByteBuddyVersion") + " was not copied to " + appByteBuddy
            + " (maven-dependency-plugin copy in process-test-classes)");
    daemon.routes.put(new InetSocketAddress("127.0.0.3", 4545), new Route.Via(relay.port()));

    try (ChildJvm app = ChildJvm.start(jdk, agentArgs(), List.of(appByteBuddy.toString()), Map.of(),
        "bytebuddy", "socket:127.0.0.3:4545")) {
      assertThat(app.awaitExit()).isZero();
      assertThat(result(app, "bytebuddy")).startsWith("OK bytebuddy version="
          + System.getProperty("armor.shim.appByteBuddyVersion", "1.14.18") + " generated=dev.armor.shim.testapp.Generated");
      assertThat(result(app, "socket")).endsWith("reply=relay:ping");
      assertSilent(app);
    }
  }

  /**
   * A copy of the agent's entry class on the app's class path (the shim's plain jar, or its build's classes) is the
   * one {@code -javaagent} loads, and it has no runtime beside it: the app is told so, in words, and runs on.
   */
  @ParameterizedTest
  @EnumSource(Jdk.class)
  void anAgentClassCopyOnTheAppsClassPath_isNamedAsWhyTheShimDidNotStart(Jdk jdk) throws Exception {
    Path classes = Path.of("target/classes").toAbsolutePath();
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs(), List.of(), List.of(classes.toString()), Map.of(), "pid")) {
      assertThat(app.awaitExit()).isZero();
      assertThat(result(app, "pid")).startsWith("OK pid pid=");
      assertThat(app.stderr()).as(app.describe()).anyMatch(line -> line.startsWith(
          "Armor: the socket shim could not start, this app's sockets are NOT rerouted through Armor: its agent class"
              + " was loaded from file:" + classes + "/, not from the agent jar"));
    }
  }
}
