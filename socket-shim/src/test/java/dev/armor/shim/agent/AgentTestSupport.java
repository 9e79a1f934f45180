package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every agent test has: a {@link FakeDaemon} on a fresh socket, a "relay" echo standing for the daemon's
 * listener of a protected service, a "direct" echo standing for an ordinary server, and helpers to run the
 * probe app in a child JVM with the agent pointed at the fake daemon.
 */
abstract class AgentTestSupport {
  static final String NODE = "node-7";

  @TempDir Path tempDir;
  FakeDaemon daemon;
  EchoServer relay;
  EchoServer direct;

  @BeforeEach
  void startDaemon() throws IOException {
    daemon = new FakeDaemon(tempDir.resolve("run/armor/daemon-shim.sock"));
    relay = new EchoServer("relay");
    direct = new EchoServer("direct");
  }

  @AfterEach
  void stopDaemon() throws IOException {
    daemon.close();
    relay.close();
    direct.close();
  }

  /**
   * The node's address the agent is given, as a daemon gives it: a documentation address (RFC 5737) that only a
   * connection accepted on a wildcard listener ever reports (as its local address).
   */
  static final String NODE_ADDRESS = "198.51.100.7";

  String agentArgs() {
    return "socket=" + daemon.socket() + ",node=" + NODE + ",host=" + NODE_ADDRESS;
  }

  /** Starts the probe app with the agent on this test's daemon. */
  ChildJvm start(Jdk jdk, String... commands) throws IOException {
    return ChildJvm.start(jdk, agentArgs(), List.of(), Map.of(), commands);
  }

  /** Runs the probe app to its end and returns it, asserting it exited normally. */
  ChildJvm run(Jdk jdk, String... commands) throws Exception {
    try (ChildJvm app = start(jdk, commands)) {
      assertThat(app.awaitExit()).as(app.describe()).isZero();
      return app;
    }
  }

  /** The line the app printed for {@code command} ("OK name ..." or "ERR name ..."). */
  static String result(ChildJvm app, String command) {
    return app.stdout().stream()
        .filter(line -> line.startsWith("OK " + command + " ") || line.startsWith("ERR " + command + " "))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no result for " + command + "\n" + app.describe()));
  }

  static void assertSilent(ChildJvm app) {
    assertThat(app.stderr()).as("the shim prints nothing in normal operation\n" + app.describe()).isEmpty();
  }

  /** A documentation address (RFC 5737): only ever reported as a peer, never connected to. */
  static final String REMOTE_CLIENT = "192.0.2.10";

  /**
   * Connects to the app's real listener as the daemon's relay would, after telling the fake daemon that this
   * connection stands for the remote client {@value #REMOTE_CLIENT}:{@code clientPort}; returns the app's answer.
   */
  String connectAsDaemon(int actualPort, int clientPort) throws Exception {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      daemon.peers.put(socket.getLocalPort(), new InetSocketAddress(REMOTE_CLIENT, clientPort));
      socket.connect(new InetSocketAddress("127.0.0.1", actualPort), 5000);
      new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8).println("ping");
      return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }
  }
}
