package dev.armor.relay.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.relay.internal.ReconnectGuard.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a connection's bytes tell the reconnect policy, on a clock the test drives. */
class ReconnectGuardTest {

  private final AtomicLong clock = new AtomicLong(1_000);
  private final ReconnectGuard guard = new ReconnectGuard(clock::get);

  private static ByteBuf bytes(String text) {
    return Unpooled.copiedBuffer(text, US_ASCII);
  }

  private static ByteBuf bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return Unpooled.wrappedBuffer(b);
  }

  @Test
  void theFirstBytesTellASessionThatNoOtherInstanceCanContinue() {
    assertThat(ReconnectGuard.classify(bytes(0x16, 0x03, 0x01, 0x02, 0x00), true)).isEqualTo(Session.TLS);
    assertThat(ReconnectGuard.classify(bytes(0x16, 0x03, 0x04), true)).isEqualTo(Session.TLS);
    assertThat(ReconnectGuard.classify(bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), true)).isEqualTo(Session.HTTP2);
    assertThat(ReconnectGuard.classify(bytes("SSH-2.0-OpenSSH_9.6\r\n"), false)).isEqualTo(Session.SSH);
    assertThat(ReconnectGuard.classify(bytes("SSH-2.0-client\r\n"), true)).isEqualTo(Session.SSH);
    // and what is not one
    assertThat(ReconnectGuard.classify(bytes("GET / HTTP/1.1\r\n"), true)).isEqualTo(Session.UNKNOWN);
    assertThat(ReconnectGuard.classify(bytes(0x16, 0x03, 0x05), true)).isEqualTo(Session.UNKNOWN);
    assertThat(ReconnectGuard.classify(bytes(0x16, 0x03, 0x01), false)).isEqualTo(Session.UNKNOWN); // the server's
    assertThat(ReconnectGuard.classify(bytes("PRIVMSG #a :hi\r\n"), true)).isEqualTo(Session.UNKNOWN);
    assertThat(ReconnectGuard.classify(bytes("SS"), true)).isEqualTo(Session.UNKNOWN); // too short to tell
    assertThat(ReconnectGuard.classify(Unpooled.EMPTY_BUFFER, true)).isEqualTo(Session.NONE);
  }

  @Test
  void aTlsConnectionIsNotReattached_anUnknownOneIs_andSoIsOneThatCarriedNothing() {
    assertThat(guard.whyNotReattach(true)).isNull();
    guard.clientSent(bytes(0x16, 0x03, 0x03, 0x00, 0x10));
    assertThat(guard.session()).isEqualTo(Session.TLS);
    assertThat(guard.whyNotReattach(true)).isEqualTo("it carries a TLS session that no other instance can continue");

    ReconnectGuard plain = new ReconnectGuard(clock::get);
    plain.clientSent(bytes("GET / HTTP/1.1\r\n\r\n"));
    plain.clientSent(bytes(0x16, 0x03, 0x03)); // only the first bytes count
    assertThat(plain.whyNotReattach(true)).isNull();
  }

  @Test
  void aClientQuietOnAnUnansweredRequestAtTheLoss_hadItInFlight_howeverSlowItsAnswersWere() {
    long ms = 1_000_000;
    guard.clientSent(bytes("hello\n"));
    clock.addAndGet(2_000 * ms);
    guard.serverSent(bytes("welcome\n")); // a slow first answer (a cold server) changes nothing
    guard.clientSent(bytes("insert ...\n"));
    clock.addAndGet(ReconnectGuard.IN_FLIGHT_FLOOR_NANOS - 1);
    assertThat(guard.whyNotReattach(true)).as("quiet, but not long enough").isNull();
    clock.addAndGet(1);
    assertThat(guard.whyNotReattach(true))
        .isEqualTo("its client had sent bytes 500 ms before and was waiting for the answer (a request in flight):"
            + " the lost instance took it with it and no other can answer it");
    assertThat(guard.whyNotReattach(false)).as("HTTP decides for itself").isNull();

    clock.addAndGet(10_000 * ms);
    guard.serverSent(bytes("ok\n"));
    assertThat(guard.whyNotReattach(true)).as("answered: idle, however long ago").isNull();
  }

  @Test
  void aLossWithInputTheLostInstanceReadAndNeverAnswered_isNotReattached_howeverRecent_untilTheNextAttachment() {
    guard.clientSent(bytes("hello\n"));
    guard.serverSent(bytes("welcome\n"));
    guard.clientSent(bytes("insert ...\n")); // a moment ago: the 500 ms rule alone would re-attach it
    guard.lostWithUnansweredInput();
    assertThat(guard.whyNotReattach(true)).contains("never answered").contains("no other instance can answer them");
    assertThat(guard.whyNotReattach(false)).as("HTTP decides for itself").isNull();
    assertThat(guard.whyNotReplay()).as("a request in flight is what replay is for").isNull();

    guard.reattached();
    assertThat(guard.whyNotReattach(true)).as("the server side's word was about the last loss only").isNull();
  }

  @Test
  void aClientThatKeepsSendingOrSpokeAMomentAgo_isNotTakenForARequestInFlight() {
    long ms = 1_000_000;
    guard.clientSent(bytes("line 1\n"));
    clock.addAndGet(ms);
    guard.serverSent(bytes("line 1\n"));
    for (int i = 2; i < 100; i++) { // a stream whose answers stopped (a hung server): the client writes on
      clock.addAndGet(20 * ms);
      guard.clientSent(bytes("line " + i + "\n"));
    }
    assertThat(guard.whyNotReattach(true)).isNull();
    clock.addAndGet(ReconnectGuard.IN_FLIGHT_FLOOR_NANOS - 1);
    assertThat(guard.whyNotReattach(true)).as("quiet, but less than the floor").isNull();
    clock.addAndGet(1);
    assertThat(guard.whyNotReattach(true)).isNotNull();

    ReconnectGuard quietFromTheStart = new ReconnectGuard(clock::get);
    clock.addAndGet(10_000 * ms);
    assertThat(quietFromTheStart.whyNotReattach(true)).as("carried nothing").isNull();
  }

  @Test
  void theWatchdogCountsOnlyWhileAReattachedClientWaitsOnASilentNewInstance() {
    guard.clientSent(bytes("req 1\n"));
    assertThat(guard.watchdogCounting()).isFalse(); // not re-attached: an ordinary wait for an answer
    clock.addAndGet(40);
    guard.serverSent(bytes("ans 1\n"));
    assertThat(guard.slowestAnswerNanos()).isEqualTo(40);

    // idle at the crash: re-attached, nothing to count yet
    assertThat(guard.reattached()).isFalse();
    assertThat(guard.watchdogCounting()).isFalse();
    assertThat(guard.clientSent(bytes("req 2\n"))).as("the client now waits on the new instance: start").isTrue();
    assertThat(guard.clientSent(bytes("more\n"))).as("already counting").isFalse();
    assertThat(guard.watchdogCounting()).isTrue();
    clock.addAndGet(70);
    guard.serverSent(bytes("ans 2\n")); // it speaks: disarmed for good
    assertThat(guard.watchdogCounting()).isFalse();
    assertThat(guard.slowestAnswerNanos()).isEqualTo(70);
    assertThat(guard.clientSent(bytes("req 3\n"))).isFalse();
    assertThat(guard.watchdogCounting()).isFalse();
  }

  @Test
  void aRequestInFlightAtTheCrashStartsTheWatchdogAtTheReattachment() {
    guard.serverSent(bytes("banner\n"));
    guard.clientSent(bytes("req\n")); // taken by the instance that then died
    assertThat(guard.reattached()).isTrue();
    assertThat(guard.watchdogCounting()).isTrue();
  }

  @Test
  void aConnectionThatCarriedNothingIsNeverWatched() {
    assertThat(guard.reattached()).isFalse();
    assertThat(guard.clientSent(bytes("hello\n"))).isFalse(); // its first request meets the new instance as new
    assertThat(guard.watchdogCounting()).isFalse();
  }
}
