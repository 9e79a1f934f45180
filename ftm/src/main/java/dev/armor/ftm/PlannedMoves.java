package dev.armor.ftm;

import dev.armor.elements.ReplyHandle;
import dev.armor.elements.control.Drained;
import dev.armor.elements.control.Moved;
import dev.armor.elements.wire.ServiceEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The planned moves under way ({@code armor move}, {@code armor drain}) and the nodes being drained: what the FTM must
 * remember between starting a move and answering it. A move is started as a node loss's migration is (new ARMOR row
 * first, services reassigned, install) but its old instance still runs; the move is <em>serving</em> once the new
 * instance registered its services (or, without services, once it started), and <em>done</em> once the old instance
 * stopped. Touched only by the FTM element, on its actor's thread.
 */
final class PlannedMoves {

  /**
   * One move: from the old ARMOR to the new one; {@code previous} is the old ARMOR's APP_SERVER_DB rows as they were,
   * to give them back if the new ARMOR cannot be installed.
   */
  record Move(String fromArmorId, String fromNode, String toArmorId, String toNode, List<String> services,
      List<ServiceEntry> previous, long startedNanos, Request request) {}

  /** What asked for moves: one {@code armor move} or one {@code armor drain}, answered when all its moves ended. */
  static final class Request {
    private final ReplyHandle reply;
    private final String drainedNode; // null for armor move
    private final List<Moved> moved = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private int open;

    Request(ReplyHandle reply, String drainedNode) {
      this.reply = reply;
      this.drainedNode = drainedNode;
    }
  }

  private final Map<String, Move> byNewArmor = new HashMap<>();
  private final Set<String> draining = new HashSet<>();
  /** The new ARMOR ids of the moves whose old instance was asked to stop. */
  private final Set<String> stopping = new HashSet<>();

  /** Records a started move; the request counts it until it ends. */
  void started(Move move) {
    byNewArmor.put(move.toArmorId(), move);
    move.request().open++;
  }

  /** The move whose new ARMOR is {@code armorId}, if one is under way. */
  Optional<Move> ofNewArmor(String armorId) {
    return Optional.ofNullable(byNewArmor.get(armorId));
  }

  /** The move whose old ARMOR is {@code armorId}, if one is under way. */
  Optional<Move> ofOldArmor(String armorId) {
    return byNewArmor.values().stream().filter(move -> move.fromArmorId().equals(armorId)).findFirst();
  }

  /** Every move under way (a copy: ending one while iterating is fine). */
  List<Move> all() {
    return List.copyOf(byNewArmor.values());
  }

  /** The move's old instance is to be stopped: true the first time only. */
  boolean stopOld(Move move) {
    return stopping.add(move.toArmorId());
  }

  /** Whether the move's old instance was asked to stop (the move served). */
  boolean stoppingOld(Move move) {
    return stopping.contains(move.toArmorId());
  }

  /** The move ended: moved, or not ({@code failure}); answers its request when it was the request's last. */
  void ended(Move move, String failure, long nowNanos) {
    if (byNewArmor.remove(move.toArmorId()) == null) {
      return;
    }
    stopping.remove(move.toArmorId());
    Request request = move.request();
    if (failure == null) {
      request.moved.add(Moved.newBuilder().setFromArmorId(move.fromArmorId()).setFromNode(move.fromNode())
          .setArmorId(move.toArmorId()).setNode(move.toNode()).addAllServices(move.services())
          .setMillis(Duration.ofNanos(nowNanos - move.startedNanos()).toMillis()).build());
    } else {
      request.failures.add(move.fromArmorId() + ": " + failure);
    }
    if (--request.open == 0) {
      answer(request);
    }
  }

  /** Answers a request that started no move (a drain of an empty node) or whose moves all ended. */
  static void answer(Request request) {
    if (!request.failures.isEmpty()) {
      String moved = request.moved.isEmpty() ? "" : " (moved: " + request.moved.stream()
          .map(m -> m.getFromArmorId() + " -> " + m.getArmorId() + " on " + m.getNode()).toList() + ")";
      request.reply.fail(String.join("; ", request.failures) + moved);
    } else if (request.drainedNode != null) {
      request.reply.complete(Drained.newBuilder().setNode(request.drainedNode).addAllMoves(request.moved).build());
    } else {
      request.reply.complete(request.moved.get(0));
    }
  }

  /** The node is drained: the FTM places no work on it until its daemon restarts or armor undrain. */
  void drain(String node) {
    draining.add(node);
  }

  /** The node takes work again (its daemon restarted, or armor undrain). True if it was drained. */
  boolean undrain(String node) {
    return draining.remove(node);
  }

  boolean draining(String node) {
    return draining.contains(node);
  }
}
