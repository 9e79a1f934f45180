package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ProcessInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a read-only viewer is shown of the protected processes' command lines. */
class ReaderViewTest {

  private static final List<String> COMMAND =
      List.of("/usr/bin/java", "-cp", "app.jar", "Server", "--db-password=s3cret");

  @Test
  void commandLinesAreCutToTheProgramsName_inProcessesAndInTheEventsThatEndWithThem() {
    ClusterStatus status = ClusterStatus.newBuilder()
        .setFtmNode("n1")
        .addNodes(NodeStatus.newBuilder().setNode("n1").setHost("10.0.0.1")
            .addProcesses(ProcessInfo.newBuilder().setArmorId("exec-1").addAllCommand(COMMAND).setPid(42)))
        .addEvents(ProcessEvent.newBuilder().setArmorId("exec-1").setKind(ProcessEventKind.STARTED)
            .setDetail("restarted after a crash: " + String.join(" ", COMMAND)))
        .addEvents(ProcessEvent.newBuilder().setArmorId("exec-1").setKind(ProcessEventKind.EXITED)
            .setDetail("killed by signal 9"))
        .addEvents(ProcessEvent.newBuilder().setArmorId("exec-gone").setKind(ProcessEventKind.STARTED)
            .setDetail("started: /bin/sh -c 'token=abc run'"))
        .build();

    ClusterStatus view = ReaderView.of(status,
        Map.of("exec-1", COMMAND, "exec-gone", List.of("/bin/sh", "-c", "'token=abc", "run'")));

    assertThat(view.getNodes(0).getProcesses(0).getCommandList())
        .containsExactly("java", "(4 arguments hidden from readers)");
    assertThat(view.getNodes(0).getProcesses(0).getPid()).isEqualTo(42);
    assertThat(view.getEventsList()).extracting(ProcessEvent::getDetail).containsExactly(
        "restarted after a crash: java (4 arguments hidden from readers)",
        "killed by signal 9",
        "started: sh (3 arguments hidden from readers)");
    assertThat(view.toString()).doesNotContain("s3cret").doesNotContain("token");
    assertThat(view.getFtmNode()).isEqualTo("n1");
  }

  @Test
  void aProgramWithoutArgumentsKeepsItsName() {
    assertThat(ReaderView.hide(List.of("/opt/app/run"))).containsExactly("run");
    assertThat(ReaderView.hide(List.of("run", "x"))).containsExactly("run", "(1 argument hidden from readers)");
    assertThat(ReaderView.hide(List.of())).isEmpty();
  }
}
