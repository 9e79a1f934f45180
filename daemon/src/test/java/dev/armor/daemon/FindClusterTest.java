package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A starting daemon asks every FTM control address again until its patience runs out, then says which failed. */
class FindClusterTest {

  @TempDir Path home;

  @Test
  void noFtmAnswering_isAskedAgainUntilTheDeadline_thenAConnectExceptionNamesEveryAddress() throws Exception {
    int first;
    int second;
    // Two free ports that nothing listens on.
    try (ServerSocket a = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        ServerSocket b = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      first = a.getLocalPort();
      second = b.getLocalPort();
    }
    String targets = "127.0.0.1:" + first + ",127.0.0.1:" + second;

    Pki pki = Pki.at(home);
    pki.initialize();
    Credentials node = pki.credentials(Identity.node("n1"));
    // The JVM's first TLS channel loads and links gRPC's and the JDK's TLS classes (seconds on a loaded host): not
    // what this test counts.
    assertThatThrownBy(() -> DaemonNode.findCluster(targets, node, Duration.ofMillis(1))).isInstanceOf(ConnectException.class);

    assertThatThrownBy(() -> DaemonNode.findCluster(targets, node, Duration.ofSeconds(5)))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("cannot reach the FTM control API at 127.0.0.1:" + first + ": UNAVAILABLE")
        .hasMessageContaining("127.0.0.1:" + second + ": UNAVAILABLE")
        .hasMessageMatching("(?s).*\\(asked ([2-9]|\\d{2,}) time\\(s\\) over 5000 ms\\)");
  }

  @TempDir Path strangerHome;

  @Test
  void anFtmOfAnotherCluster_isGivenUpOnAtOnce_sayingWhoseCertificatesDoNotMatch() throws Exception {
    Pki pki = Pki.at(home);
    pki.initialize();
    Pki stranger = Pki.at(strangerHome);
    stranger.initialize();
    io.grpc.Server other = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
        .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0),
            stranger.credentials(Identity.node("ftm-other")).serverCredentials())
        .build().start();
    try {
      String target = "127.0.0.1:" + other.getPort();
      assertThatThrownBy(() -> DaemonNode.findCluster(target, pki.credentials(Identity.node("n1")), Duration.ofSeconds(60)))
          .isInstanceOf(ConnectException.class)
          .hasMessageStartingWith("cannot use the FTM control API at " + target + ": no TLS session with a node"
              + " certificate of this node's cluster")
          .hasMessageNotContaining("\tat ");
    } finally {
      other.shutdownNow();
    }
  }
}
