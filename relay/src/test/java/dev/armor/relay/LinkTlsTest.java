package dev.armor.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import dev.armor.security.TestPki;
import dev.armor.security.TlsHandshake;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Links under mutual TLS (issue 15): bytes cross them as before, dedicated and multiplexed; a relay of another cluster
 * and a process that is no daemon never reach the app through the data port; on Linux x86-64 the TLS is BoringSSL's.
 */
class LinkTlsTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7090);

  @TempDir Path strangerHome;

  @ParameterizedTest
  @EnumSource(value = RelayConfig.LinkMode.class, names = {"DEDICATED", "MULTIPLEXED"})
  void bytesCrossTlsLinksBothWays(RelayConfig.LinkMode links) throws Exception {
    try (RelayPair pair = new RelayPair(c -> c.withLinks(links).withDataPath(RelayConfig.DataPath.RELAYED),
            LinkTls.of(TestPki.node("n1")), LinkTls.of(TestPki.node("n2")));
        TestServer app = TestServer.echo();
        Socket client = connect(pair, app)) {
      for (int round = 0; round < 3; round++) {
        String line = "round " + round + " over " + links + " TLS links\n";
        client.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(client.getInputStream().readNBytes(line.length()), StandardCharsets.US_ASCII))
            .isEqualTo(line);
      }
    }
  }

  @Test
  void linksUseBoringSslOnLinuxX8664() throws Exception {
    // Armor ships netty-tcnative's BoringSSL for linux-x86_64: had its library failed to load, the links would fall
    // back to the JDK's TLS, about 13 times slower between hosts under Armor's C1-compiled JVMs.
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux")
        && System.getProperty("os.arch").equals("amd64"), "BoringSSL ships for linux-x86_64 only");
    assertThat(io.netty.handler.ssl.OpenSsl.unavailabilityCause()).as("why BoringSSL did not load").isNull();
    assertThat(LinkTls.PROVIDER).isEqualTo(io.netty.handler.ssl.SslProvider.OPENSSL);
    try (RelayPair pair = new RelayPair(c -> c.withLinks(RelayConfig.LinkMode.DEDICATED)
            .withDataPath(RelayConfig.DataPath.RELAYED), LinkTls.of(TestPki.node("n1")), LinkTls.of(TestPki.node("n2")));
        TestServer app = TestServer.echo();
        Socket client = connect(pair, app)) {
      client.getOutputStream().write("over BoringSSL\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(client.getInputStream().readNBytes(15), StandardCharsets.US_ASCII))
          .isEqualTo("over BoringSSL\n");
    }
  }

  @Test
  void aRelayOfAnotherClusterNeverReachesTheApp() throws Exception {
    Pki stranger = Pki.at(strangerHome);
    stranger.initialize();
    LinkTls strangerLinks = LinkTls.of(stranger.credentials(Identity.node("n1")));
    try (RelayPair pair = new RelayPair(c -> c.withLinks(RelayConfig.LinkMode.DEDICATED)
            .withDataPath(RelayConfig.DataPath.RELAYED), strangerLinks, LinkTls.of(TestPki.node("n2")));
        TestServer app = TestServer.echo();
        Socket client = connect(pair, app)) {
      client.getOutputStream().write("let me in\n".getBytes(StandardCharsets.US_ASCII));
      // Its links keep failing their handshakes; over several attempts nothing reaches the app.
      Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
          .until(() -> app.sockets().isEmpty() && pair.serverSide().isEmpty());
    }
  }

  @Test
  void aLinkFrameInTheClearIsClosedUnread() throws Exception {
    try (RelayPair pair = new RelayPair(c -> c, LinkTls.of(TestPki.node("n1")), LinkTls.of(TestPki.node("n2")));
        TestServer app = TestServer.echo()) {
      pair.expose(SERVICE, app);
      try (Socket forged = new Socket(pair.server.dataAddress().getAddress(), pair.server.dataAddress().getPort())) {
        // Not even a TLS record: what a process that is no daemon would send, an OPEN naming a client of its choosing.
        forged.getOutputStream().write("OPEN 127.0.0.2:7090 from 6.6.6.6:4444\n".getBytes(StandardCharsets.US_ASCII));
        forged.setSoTimeout((int) TlsHandshake.TIMEOUT.plusSeconds(5).toMillis());
        assertThat(readToEnd(forged.getInputStream())).as("the data port closed the connection").isTrue();
      }
      assertThat(app.sockets()).isEmpty();
      assertThat(pair.serverSide()).isEmpty();
    }
  }

  private static Socket connect(RelayPair pair, TestServer app) throws IOException {
    pair.expose(SERVICE, app);
    Socket client = pair.connect(SERVICE);
    client.setSoTimeout(20_000);
    return client;
  }

  /** Reads until the peer closes: true at end of stream or reset, false if it kept the connection open. */
  private static boolean readToEnd(InputStream in) throws IOException {
    byte[] buffer = new byte[512];
    try {
      while (in.read(buffer) >= 0) {
        continue;
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}
