package dev.armor.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class PendingHandshakesTest {

  private static InetSocketAddress peer(String host, int port) {
    return new InetSocketAddress(host, port);
  }

  @Test
  void onePeerIsBoundedByItsOwnLimit_andOtherPeersStillGetIn() {
    PendingHandshakes pending = new PendingHandshakes(2, 10);

    assertThat(pending.admit(peer("127.0.0.5", 1))).isNull();
    assertThat(pending.admit(peer("127.0.0.5", 2))).isNull();
    assertThat(pending.admit(peer("127.0.0.5", 3))).contains("2 connections from 127.0.0.5");
    assertThat(pending.admit(peer("127.0.0.6", 1))).isNull();
    assertThat(pending.pending()).isEqualTo(3);
  }

  @Test
  void aFinishedHandshakeFreesItsPlace() {
    PendingHandshakes pending = new PendingHandshakes(1, 10);

    assertThat(pending.admit(peer("127.0.0.5", 1))).isNull();
    assertThat(pending.admit(peer("127.0.0.5", 2))).isNotNull();
    pending.done(peer("127.0.0.5", 1));

    assertThat(pending.admit(peer("127.0.0.5", 2))).isNull();
    assertThat(pending.pending()).isEqualTo(1);
  }

  @Test
  void allPeersTogetherAreBoundedByTheTotal_andARefusalCountsNothing() {
    PendingHandshakes pending = new PendingHandshakes(5, 3);
    for (int i = 1; i <= 3; i++) {
      assertThat(pending.admit(peer("127.0.1." + i, 1))).isNull();
    }

    assertThat(pending.admit(peer("127.0.1.9", 1))).contains("3 connections already");
    assertThat(pending.pending()).isEqualTo(3);
    pending.done(peer("127.0.1.2", 1));
    assertThat(pending.admit(peer("127.0.1.9", 1))).isNull();
  }
}
