package dev.armor.execution.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.elements.wire.AppSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The progress rule on samples made by hand, on a clock the test moves (a sample every 400 ms, timeout 2 s). */
class ProgressWatchTest {

  private static final long MS = 1_000_000L;
  private static final int PORT = 7000;

  private final ProgressWatch watch = new ProgressWatch(Duration.ofSeconds(2), 0);

  @Test
  void anIdleApp_owesNothing_andIsNeverHung() {
    for (long t = 400; t <= 60_000; t += 400) {
      assertThat(watch.observe(t * MS, List.of(listener(0)))).isEmpty();
    }
  }

  @Test
  void anIdleKeepAliveConnection_theAppAnsweredLast_owesNothing() {
    AppSocket answered = connection(11, 0, 0, 100, 2_000).setLastReceiveMillis(900).setLastSendMillis(850).build();
    for (long t = 400; t <= 60_000; t += 400) {
      assertThat(watch.observe(t * MS, List.of(listener(0), answered))).isEmpty();
    }
  }

  @Test
  void aConnectionLeftInTheAcceptQueue_isHungOnceTheTimeoutPassesWithoutAnAccept() {
    assertThat(watch.observe(400 * MS, List.of(listener(1)))).isEmpty(); // owed from here
    assertThat(watch.observe(2_000 * MS, List.of(listener(1)))).isEmpty();
    Optional<String> hung = watch.observe(2_400 * MS, List.of(listener(1)));

    assertThat(hung).hasValueSatisfying(why -> assertThat(why)
        .isEqualTo("no progress: owed work waited (1 connection(s) waiting to be accepted on port 7000 for 2000 ms) "
            + "and no byte written for 2400 ms (progress timeout 2000 ms)"));
  }

  @Test
  void inputLeftUnread_isHung() {
    AppSocket unread = connection(11, 120, 0, 120, 0).build();
    watch.observe(400 * MS, List.of(listener(0), unread));

    assertThat(watch.observe(2_400 * MS, List.of(listener(0), unread)))
        .hasValueSatisfying(why -> assertThat(why).contains("120 bytes from 127.0.0.9:40000 not read"));
  }

  @Test
  void aRequestReadAndNeverAnswered_isHung() {
    AppSocket neverAnswered = connection(11, 0, 0, 40, 0).setLastReceiveMillis(10).setLastSendMillis(10).build();
    watch.observe(400 * MS, List.of(listener(0), neverAnswered));

    assertThat(watch.observe(2_400 * MS, List.of(listener(0), neverAnswered)))
        .hasValueSatisfying(why -> assertThat(why).contains("a request from 127.0.0.9:40000 read and not answered"));
  }

  @Test
  void aSecondRequestReadAfterTheAppsLastAnswer_isOwed() {
    AppSocket second = connection(11, 0, 0, 80, 500).setLastReceiveMillis(5).setLastSendMillis(900).build();
    watch.observe(400 * MS, List.of(listener(0), second));

    assertThat(watch.observe(2_400 * MS, List.of(listener(0), second))).isPresent();
  }

  @Test
  void aClientThatDoesNotReadTheAppsOutput_owesTheAppNothing_evenWithItsOwnInputUnread() {
    AppSocket slowReader = connection(11, 300, 2_500_000, 600, 1_000_000).build();
    for (long t = 400; t <= 60_000; t += 400) {
      assertThat(watch.observe(t * MS, List.of(listener(0), slowReader))).isEmpty();
    }
  }

  @Test
  void progressAnywhere_holdsOffTheVerdict_untilATimeoutWithoutAny() {
    AppSocket stuck = connection(11, 10, 0, 10, 0).build();
    watch.observe(400 * MS, List.of(listener(0), stuck, connection(12, 0, 0, 5, 5).build()));
    // The other connection is served at 1.6 s: progress, so the stuck one is judged from then.
    watch.observe(1_600 * MS, List.of(listener(0), stuck, connection(12, 0, 0, 10, 10).build()));
    assertThat(watch.observe(3_200 * MS, List.of(listener(0), stuck, connection(12, 0, 0, 10, 10).build()))).isEmpty();

    assertThat(watch.observe(3_600 * MS, List.of(listener(0), stuck, connection(12, 0, 0, 10, 10).build())))
        .hasValueSatisfying(why -> assertThat(why).contains("not read for 3200 ms")
            .contains("no byte written for 2000 ms"));
  }

  @Test
  void anAcceptRestartsTheListenersWait_evenWhenItsQueueStaysAsLong() {
    long t = 0;
    for (int i = 0; i < 30; i++) {
      t += 1_900;
      // One connection waits at every sample, but it is a new one each time: the last was accepted (and answered).
      AppSocket served = connection(100 + i, 0, 0, 10, 10).setLastReceiveMillis(5).setLastSendMillis(1).build();
      assertThat(watch.observe(t * MS, List.of(listener(1), served))).as("at %d ms", t).isEmpty();
    }
  }

  @Test
  void readingSomeOfTheInput_restartsThatConnectionsWait() {
    long t = 0;
    for (int i = 0; i < 30; i++) {
      t += 1_900;
      AppSocket draining = connection(11, 1_000 - i, 0, 1_000, 0).build(); // a byte read per sample
      assertThat(watch.observe(t * MS, List.of(listener(0), draining))).as("at %d ms", t).isEmpty();
    }
  }

  @Test
  void aConnectionTheAppClosed_countsAsOutput() {
    AppSocket stuck = connection(11, 10, 0, 10, 0).build();
    watch.observe(400 * MS, List.of(listener(0), stuck, connection(12, 0, 0, 5, 0).build()));
    watch.observe(1_600 * MS, List.of(listener(0), stuck)); // 12 closed

    assertThat(watch.observe(3_200 * MS, List.of(listener(0), stuck))).isEmpty();
    assertThat(watch.observe(3_600 * MS, List.of(listener(0), stuck))).isPresent();
  }

  @Test
  void aServerWhoseWorkersAreDeadlocked_isHung_thoughItStillAcceptsAndReadsNewRequests() {
    long t = 0;
    Optional<String> hung = Optional.empty();
    List<AppSocket> connections = new java.util.ArrayList<>();
    for (int i = 0; i < 10 && hung.isEmpty(); i++) {
      t += 400;
      connections.add(connection(100 + i, 0, 0, 12, 0).build()); // accepted, request read, never answered
      List<AppSocket> sample = new java.util.ArrayList<>(connections);
      sample.add(listener(0));
      hung = watch.observe(t * MS, sample);
    }

    assertThat(t).isEqualTo(2_400);
    assertThat(hung).hasValueSatisfying(why -> assertThat(why)
        .contains("a request from 127.0.0.9:40000 read and not answered for 2000 ms"));
  }

  @Test
  void oneLongRequestAmongOthersAnswered_isNoHang() {
    AppSocket longRequest = connection(11, 0, 0, 40, 0).build();
    for (int i = 1; i <= 100; i++) {
      AppSocket answered = connection(12, 0, 0, 10L * i, 10L * i).setLastReceiveMillis(5).setLastSendMillis(1).build();
      assertThat(watch.observe(i * 400 * MS, List.of(listener(0), longRequest, answered))).isEmpty();
    }
  }

  @Test
  void anAppIsNotJudgedBeforeItHasHadTheWholeTimeoutSinceItsStart() {
    ProgressWatch late = new ProgressWatch(Duration.ofSeconds(2), 10_000 * MS);

    assertThat(late.observe(10_400 * MS, List.of(listener(3)))).isEmpty();
    assertThat(late.observe(12_000 * MS, List.of(listener(3)))).isEmpty();
    assertThat(late.observe(12_400 * MS, List.of(listener(3)))).isPresent();
  }

  @Test
  void workNoLongerOwed_restartsTheWait() {
    watch.observe(400 * MS, List.of(listener(1)));
    watch.observe(1_600 * MS, List.of(listener(0))); // the client gave up and left the queue
    assertThat(watch.observe(2_400 * MS, List.of(listener(1)))).isEmpty();
    assertThat(watch.observe(4_000 * MS, List.of(listener(1)))).isEmpty();
    assertThat(watch.observe(4_400 * MS, List.of(listener(1)))).isPresent();
  }

  @Test
  void aConnectionTheAppOpenedItself_owesNothing() {
    AppSocket outgoing = AppSocket.newBuilder().setInode(20).setState("ESTAB").setLocalPort(45000)
        .setPeer("127.0.0.5:5432").setBytesReceived(100).setLastReceiveMillis(1).setLastSendMillis(9).build();
    watch.observe(400 * MS, List.of(listener(0), outgoing));

    assertThat(watch.observe(30_000 * MS, List.of(listener(0), outgoing))).isEmpty();
  }

  @Test
  void aRequestWithinTheKernelsClockTickOfTheAnswerBeforeIt_isTakenForAnswered_untilMoreWorkPilesUp() {
    // The kernel's times say the last data came in and went out in the same tick: they cannot be ordered.
    AppSocket tie = connection(11, 0, 0, 12, 15).setLastReceiveMillis(40).setLastSendMillis(40).build();
    watch.observe(400 * MS, List.of(listener(0), tie));
    assertThat(watch.observe(30_000 * MS, List.of(listener(0), tie))).isEmpty();

    AppSocket next = connection(12, 0, 0, 6, 0).build(); // the next client's request, read, never answered
    watch.observe(30_400 * MS, List.of(listener(0), tie, next));
    assertThat(watch.observe(32_400 * MS, List.of(listener(0), tie, next))).isPresent();
  }

  @Test
  void aTimeoutThatIsNotPositive_isRefused() {
    assertThatThrownBy(() -> new ProgressWatch(Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static AppSocket listener(long waiting) {
    return AppSocket.newBuilder().setInode(1).setListening(true).setState("LISTEN").setLocalPort(PORT)
        .setReceiveQueue(waiting).build();
  }

  /** An accepted connection: unread and unacknowledged bytes, bytes received and acknowledged so far. */
  private static AppSocket.Builder connection(long inode, long unread, long unacknowledged, long received,
      long acknowledged) {
    return AppSocket.newBuilder().setInode(inode).setState("ESTAB").setLocalPort(PORT).setPeer("127.0.0.9:40000")
        .setReceiveQueue(unread).setSendQueue(unacknowledged).setBytesReceived(received).setBytesAcked(acknowledged);
  }
}
