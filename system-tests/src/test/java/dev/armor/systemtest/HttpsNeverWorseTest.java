package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armor.systemtest.NeverWorseKit.Outcome;
import dev.armor.systemtest.apps.HttpRequestClient;
import dev.armor.systemtest.apps.SlowHttpServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14's rule with the JDK's own HTTP servers ({@code HttpsServer}, and {@code HttpServer} in the cases the suite's
 * {@link HttpNeverWorseTest} leaves out) and {@code HttpClient} (its defaults: no request timeout, keep-alive), on JDK
 * 17 and 25: the server killed while the client's connection is idle and while a GET is in flight, without Armor and
 * under {@code armor run} with each recovery policy. A TLS session cannot move to another instance (under replay, the
 * new instance's handshake differs from the first bytes the client already had), so Armor resets the client's
 * connection at the loss; the client then does what it does without Armor. Tagged {@code transparency}: {@code
 * scripts/transparency} runs it, {@code mvn verify} does not (the suite's time).
 */
@Tag("transparency")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class HttpsNeverWorseTest {

  /** The shared cluster's loopback subnet ({@link ArmorTestCluster#shared()}). */
  private static String subnet;
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.shared();
    subnet = cluster.subnet();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * HTTPS on each JDK under each recovery policy, and plain HTTP in the cases the suite's {@link HttpNeverWorseTest}
   * (JDK 17, reconnect) leaves out; each on a port of its own (a case's server keeps running under Armor).
   */
  static Stream<Arguments> cases() {
    return Stream.of(Arguments.of("JDK 17, reconnect", ArmorTestCluster.JDK17, 7621, "reconnect", true),
        Arguments.of("JDK 25, reconnect", ArmorTestCluster.JDK25, 7623, "reconnect", true),
        Arguments.of("JDK 17, replay", ArmorTestCluster.JDK17, 7625, "replay", true),
        Arguments.of("JDK 25, replay", ArmorTestCluster.JDK25, 7627, "replay", true),
        Arguments.of("JDK 25, reconnect", ArmorTestCluster.JDK25, 7651, "reconnect", false),
        Arguments.of("JDK 17, replay", ArmorTestCluster.JDK17, 7653, "replay", false),
        Arguments.of("JDK 25, replay", ArmorTestCluster.JDK25, 7655, "replay", false));
  }

  @ParameterizedTest(name = "{0}, TLS {4}")
  @MethodSource("cases")
  void anHttpServerKilledIdleAndMidRequest_neverHangsItsClient_noWorseThanWithoutArmor(String name, Path java,
      int port, String policy, boolean tls) throws Exception {
    assumeTrue(Files.isExecutable(java), name + " is not installed at " + java);
    List<String> tlsArguments = tls ? List.of("--tls", keyStore(java, port).toString()) : List.of();
    List<String> server = new ArrayList<>(ArmorTestCluster.appCommand(java, SlowHttpServer.class.getName(), "" + port));
    server.addAll(tlsArguments);

    // Without Armor: the server unwrapped on 127.0.0.1, killed and started again by the test; the client unwrapped.
    AppProcess[] plain = {startPlain(java, port, tlsArguments)};
    Map<String, Outcome> without;
    try {
      without = NeverWorseKit.idleAndInFlight(cluster.startWrappedApp(null, java, HttpRequestClient.class.getName(),
          arguments("127.0.0.1", port, tlsArguments)), "/fast", "/slow", () -> plain[0].lines().contains("SLOW"), () -> {
            plain[0].process().destroyForcibly().waitFor();
            plain[0].close();
            plain[0] = startPlain(java, port, tlsArguments);
          });
    } finally {
      plain[0].close();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    String armorId = cluster.launchServer("n1", List.of("--recovery", policy), server);
    Map<String, Outcome> with = NeverWorseKit.idleAndInFlight(cluster.startApp("n2", java,
        HttpRequestClient.class.getName(), arguments(subnet + ".2", port, tlsArguments)), "/fast", "/slow",
        () -> NeverWorseKit.serverSaid(cluster, armorId, "SLOW"), NeverWorseKit.killUnderArmor(cluster, armorId));

    NeverWorseKit.assertNoWorse("JDK " + (tls ? "HttpsServer" : "HttpServer") + " and HttpClient, " + name, without,
        with);
  }

  private static String[] arguments(String host, int port, List<String> tlsArguments) {
    List<String> all = new ArrayList<>(List.of(host, "" + port));
    all.addAll(tlsArguments);
    return all.toArray(String[]::new);
  }

  private static AppProcess startPlain(Path java, int port, List<String> tlsArguments) throws IOException {
    List<String> arguments = new ArrayList<>(List.of("" + port));
    arguments.addAll(tlsArguments);
    AppProcess server = cluster.startWrappedApp(null, java, SlowHttpServer.class.getName(),
        arguments.toArray(String[]::new));
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(30));
    return server;
  }

  /** A PKCS12 key store with a self-signed certificate for the addresses the client uses, made by the JDK's keytool. */
  private static Path keyStore(Path java, int port) throws Exception {
    Path store = cluster.home().resolve("https-" + port + ".p12");
    Process keytool = new ProcessBuilder(java.resolveSibling("keytool").toString(), "-genkeypair", "-alias", "server",
        "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=armor-test", "-ext",
        "SAN=ip:127.0.0.1,ip:" + subnet + ".2", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass", SlowHttpServer.STORE_PASSWORD, "-keypass", SlowHttpServer.STORE_PASSWORD)
        .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertThat(keytool.waitFor()).as("keytool: %s", output).isZero();
    return store;
  }
}
