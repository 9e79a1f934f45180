package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.ExecutionArmorState;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlacementTest {

  private static ExecutionArmorRow row(String id, String node, ExecutionArmorState state) {
    return ExecutionArmorRow.newBuilder().setArmorId(id).setNode(node).setState(state).build();
  }

  @Test
  void activeOn_picksOnlyTheLostNodesActiveRows() {
    List<ExecutionArmorRow> rows = List.of(
        row("exec-n1-a", "n1", ExecutionArmorState.ACTIVE),
        row("exec-n1-b", "n1", ExecutionArmorState.REPLACED),
        row("exec-n1-c", "n1", ExecutionArmorState.FINISHED),
        row("exec-n2-a", "n2", ExecutionArmorState.ACTIVE));

    assertThat(Placement.activeOn("n1", rows)).extracting(ExecutionArmorRow::getArmorId).containsExactly("exec-n1-a");
  }

  @Test
  void plan_choosesTheLiveNodeWithFewestActiveArmors_andSpreadsSeveral() {
    List<ExecutionArmorRow> rows = List.of(
        row("exec-n1-a", "n1", ExecutionArmorState.ACTIVE),
        row("exec-n1-b", "n1", ExecutionArmorState.ACTIVE),
        row("exec-n1-c", "n1", ExecutionArmorState.ACTIVE),
        row("exec-n2-a", "n2", ExecutionArmorState.ACTIVE),
        row("exec-n3-x", "n3", ExecutionArmorState.REPLACED));

    List<Placement.Decision> plan = Placement.plan(Placement.activeOn("n1", rows), List.of("n2", "n3"), rows);

    assertThat(plan).extracting(Placement.Decision::target)
        .containsExactly(Optional.of("n3"), Optional.of("n2"), Optional.of("n3"));
  }

  @Test
  void plan_tiesGoToTheNodeNamedFirst() {
    List<ExecutionArmorRow> rows = List.of(row("exec-n1-a", "n1", ExecutionArmorState.ACTIVE));

    assertThat(Placement.plan(rows, List.of("n4", "n2", "n3"), rows))
        .extracting(Placement.Decision::target).containsExactly(Optional.of("n2"));
  }

  @Test
  void plan_withoutLiveNodes_leavesEveryArmorWithoutTarget() {
    List<ExecutionArmorRow> rows = List.of(row("exec-n1-a", "n1", ExecutionArmorState.ACTIVE));

    assertThat(Placement.plan(rows, List.of(), rows))
        .extracting(Placement.Decision::target).containsExactly(Optional.empty());
  }

  @Test
  void pending_areThePendingRows() {
    List<ExecutionArmorRow> rows = List.of(
        row("exec-n1-a", "n1", ExecutionArmorState.PENDING),
        row("exec-n1-b", "n1", ExecutionArmorState.ACTIVE));

    assertThat(Placement.pending(rows)).extracting(ExecutionArmorRow::getArmorId).containsExactly("exec-n1-a");
  }
}
