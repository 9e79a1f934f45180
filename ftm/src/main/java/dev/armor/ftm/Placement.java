package dev.armor.ftm;

import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.ExecutionArmorState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where the work of a lost node goes: the placement decisions of a migration, as a pure function of the ARMOR
 * rows and the live daemons, so they are tested without a cluster.
 *
 * <p>A target is a live daemon (registered, its member up and reachable) with the fewest ACTIVE Execution ARMORs;
 * ties go to the node whose name sorts first, so a decision is repeatable. Each decision counts towards the next,
 * so the ARMORs of one lost node spread over the live ones.
 */
final class Placement {

  private Placement() {}

  /** One ARMOR to move: to {@code target}, or nowhere (empty: no live node, the ARMOR waits PENDING). */
  record Decision(ExecutionArmorRow row, Optional<String> target) {}

  /** The ACTIVE rows of {@code node}: the work that must move when it is lost. */
  static List<ExecutionArmorRow> activeOn(String node, Collection<ExecutionArmorRow> rows) {
    return rows.stream()
        .filter(r -> r.getState() == ExecutionArmorState.ACTIVE && r.getNode().equals(node))
        .sorted(Comparator.comparing(ExecutionArmorRow::getArmorId))
        .toList();
  }

  /** The PENDING rows, waiting for a live node. */
  static List<ExecutionArmorRow> pending(Collection<ExecutionArmorRow> rows) {
    return rows.stream()
        .filter(r -> r.getState() == ExecutionArmorState.PENDING)
        .sorted(Comparator.comparing(ExecutionArmorRow::getArmorId))
        .toList();
  }

  /**
   * Chooses a target for each of {@code orphans}.
   *
   * @param liveNodes the nodes whose daemon is registered and whose member is up and reachable
   * @param rows every row, to count each live node's ACTIVE ARMORs
   */
  static List<Decision> plan(List<ExecutionArmorRow> orphans, Collection<String> liveNodes,
      Collection<ExecutionArmorRow> rows) {
    Map<String, Integer> load = new TreeMap<>();
    for (String node : liveNodes) {
      load.put(node, 0);
    }
    for (ExecutionArmorRow row : rows) {
      if (row.getState() == ExecutionArmorState.ACTIVE && load.containsKey(row.getNode())) {
        load.merge(row.getNode(), 1, Integer::sum);
      }
    }
    List<Decision> decisions = new ArrayList<>();
    for (ExecutionArmorRow orphan : orphans) {
      Optional<String> target = load.entrySet().stream()
          .min(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
          .map(Map.Entry::getKey);
      target.ifPresent(node -> load.merge(node, 1, Integer::sum));
      decisions.add(new Decision(orphan, target));
    }
    return decisions;
  }
}
