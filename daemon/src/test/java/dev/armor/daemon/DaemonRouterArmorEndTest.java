package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import com.google.protobuf.StringValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway notes a local Execution ARMOR's end (its app will not run again) as the report passes to the FTM, and
 * routes the report unchanged: the relay then closes that client ARMOR's listeners (ClientCrashRelayTest).
 */
class DaemonRouterArmorEndTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  private final TestProbe<ArmorActor.Command> ftm = testKit.createTestProbe();
  private final FtmChannel channel = new FtmChannel("n1", "127.0.0.1", dev.armor.security.TestPki.nodeTls("n1"));
  private final List<String> ended = new ArrayList<>();
  private final DaemonRouter router =
      new DaemonRouter(ftm.ref(), channel, Duration.ofSeconds(30), (armorId, why) -> ended.add(armorId + ": " + why));

  @AfterEach
  void close() {
    channel.close();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ArmorMessage report(ProcessEventKind kind, String detail) {
    ProcessEvent event = ProcessEvent.newBuilder().setArmorId("exec-n1-abcd").setNode("n1").setKind(kind)
        .setDetail(detail).build();
    return Armors.message("exec-n1-abcd", ArmorIds.FTM, Ops.PROCESS_EVENT, event);
  }

  @Test
  void aStoppedOrGivenUpArmorIsNotedAndItsReportStillReachesTheFtm() {
    ArmorMessage stopped = report(ProcessEventKind.STOPPED, "pid 41 exited with status 0");
    ArmorMessage gaveUp = report(ProcessEventKind.GAVE_UP, "4 crashes in 60 s");

    assertThat(router.route(stopped, null)).isTrue();
    assertThat(router.route(gaveUp, null)).isTrue();

    assertThat(ftm.expectMessageClass(ArmorActor.Deliver.class).message()).isEqualTo(stopped);
    assertThat(ftm.expectMessageClass(ArmorActor.Deliver.class).message()).isEqualTo(gaveUp);
    assertThat(ended).containsExactly(
        "exec-n1-abcd: its Execution ARMOR stopped: pid 41 exited with status 0",
        "exec-n1-abcd: its Execution ARMOR gave up: 4 crashes in 60 s");
  }

  @Test
  void anArmorThatRestartsItsAppIsNotEnded() {
    for (ProcessEventKind kind : List.of(ProcessEventKind.STARTED, ProcessEventKind.EXITED,
        ProcessEventKind.RESTARTING, ProcessEventKind.HUNG)) {
      assertThat(router.route(report(kind, ""), null)).isTrue();
      ftm.expectMessageClass(ArmorActor.Deliver.class);
    }
    assertThat(ended).isEmpty();
  }

  @Test
  void aMalformedReportIsRoutedForTheFtmToRefuse() {
    ArmorMessage malformed = Armors.message("exec-n1-abcd", ArmorIds.FTM, Ops.PROCESS_EVENT,
        StringValue.of("not a process event"));

    assertThat(router.route(malformed, null)).isTrue();

    assertThat(ftm.expectMessageClass(ArmorActor.Deliver.class).message()).isEqualTo(malformed);
    assertThat(ended).isEmpty();
  }
}
