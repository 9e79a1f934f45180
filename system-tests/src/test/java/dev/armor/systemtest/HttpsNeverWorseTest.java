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
 * Issue 14's rule with the JDK's own HTTPS server ({@code HttpsServer}) and {@code HttpClient} (its defaults: no
 * request timeout, keep-alive), on JDK 17 and 25: the server killed while the client's connection is idle and while a
 * GET is in flight, without Armor and under {@code armor run} (reconnect). A TLS session cannot move to another
 * instance, so Armor resets the client's connection at the loss; the client then does what it does without Armor.
 * Tagged {@code transparency}: {@code scripts/transparency} runs it, {@code mvn verify} does not (the suite's time).
 */
@Tag("transparency")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class HttpsNeverWorseTest {

  /** A loopback subnet of this class's own: system test classes run two at a time. */
  private static final String SUBNET = "127.0.20";
  private static ArmorTestCluster cluster;

  @RegisterExtension
  final TestWatcher logsOnFailure = ArmorTestCluster.logsOnFailure(() -> cluster);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ArmorTestCluster.start("https-never-worse", SUBNET, 7821, 25821, 2, List.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Stream<Arguments> jdks() {
    return Stream.of(Arguments.of("JDK 17", ArmorTestCluster.JDK17, 7621),
        Arguments.of("JDK 25", ArmorTestCluster.JDK25, 7623));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jdks")
  void anHttpsServerKilledIdleAndMidRequest_neverHangsItsClient_noWorseThanWithoutArmor(String name, Path java,
      int port) throws Exception {
    assumeTrue(Files.isExecutable(java), name + " is not installed at " + java);
    Path keyStore = keyStore(java, port);
    List<String> server = ArmorTestCluster.appCommand(java, SlowHttpServer.class.getName(), "" + port, "--tls",
        keyStore.toString());

    // Without Armor: the server unwrapped on 127.0.0.1, killed and started again by the test; the client unwrapped.
    AppProcess[] plain = {startPlain(java, port, keyStore)};
    Map<String, Outcome> without;
    try {
      without = NeverWorseKit.idleAndInFlight(cluster.startWrappedApp(null, java, HttpRequestClient.class.getName(),
          "127.0.0.1", "" + port, "--tls", keyStore.toString()), "/fast", "/slow",
          () -> plain[0].lines().contains("SLOW"), () -> {
            plain[0].process().destroyForcibly().waitFor();
            plain[0].close();
            plain[0] = startPlain(java, port, keyStore);
          });
    } finally {
      plain[0].close();
    }

    // Under Armor: the same server under `armor run` on n1, the client wrapped on n2.
    String armorId = cluster.launchServer("n1", List.of("--recovery", "reconnect"), server);
    Map<String, Outcome> with = NeverWorseKit.idleAndInFlight(cluster.startApp("n2", java,
        HttpRequestClient.class.getName(), SUBNET + ".2", "" + port, "--tls", keyStore.toString()), "/fast", "/slow",
        () -> NeverWorseKit.serverSaid(cluster, armorId, "SLOW"), NeverWorseKit.killUnderArmor(cluster, armorId));

    NeverWorseKit.assertNoWorse("JDK HttpsServer and HttpClient, " + name, without, with);
  }

  private static AppProcess startPlain(Path java, int port, Path keyStore) throws IOException {
    AppProcess server = cluster.startWrappedApp(null, java, SlowHttpServer.class.getName(), "" + port, "--tls",
        keyStore.toString());
    server.awaitLine(line -> line.startsWith("LISTENING"), Duration.ofSeconds(30));
    return server;
  }


  /** A PKCS12 key store with a self-signed certificate for the addresses the client uses, made by the JDK's keytool. */
  private static Path keyStore(Path java, int port) throws Exception {
    Path store = cluster.home().resolve("https-" + port + ".p12");
    Process keytool = new ProcessBuilder(java.resolveSibling("keytool").toString(), "-genkeypair", "-alias", "server",
        "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=armor-test", "-ext",
        "SAN=ip:127.0.0.1,ip:" + SUBNET + ".2", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass", SlowHttpServer.STORE_PASSWORD, "-keypass", SlowHttpServer.STORE_PASSWORD)
        .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertThat(keytool.waitFor()).as("keytool: %s", output).isZero();
    return store;
  }
}
