package dev.armor.cli;

import dev.armor.elements.control.MoveRequest;
import dev.armor.elements.control.Moved;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "move", description = {
    "armor move ARMOR [--to NODE]: a planned move of one protected process to another node: a new Execution ARMOR "
        + "starts it there, its services and their clients' connections follow (as after a crash of the old instance, "
        + "without the crash), then the old instance is stopped. Returns once it moved."})
final class MoveCommand implements Callable<Integer> {

  /** The FTM's own limit (the new instance's start and the old one's stop), and a little for the trip. */
  static final long TIMEOUT_SECONDS = 130;

  @Parameters(paramLabel = "ARMOR", description = "An Execution ARMOR id (armor status lists them).")
  String armorId;

  @Option(names = "--to", paramLabel = "NODE",
      description = "The node to move it to (default: the live node with the fewest Execution ARMORs).")
  String toNode;

  @Mixin FtmAddress ftm;

  @Override
  public Integer call() throws Exception {
    try (FtmClient client = new FtmClient(ftm.target())) {
      Moved moved;
      try {
        moved = client.stub(TIMEOUT_SECONDS).move(MoveRequest.newBuilder().setArmorId(armorId)
            .setToNode(toNode == null ? "" : toNode).build());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException("cannot move " + armorId + ": " + client.explain(e));
      }
      System.out.println(describe(moved));
      return 0;
    }
  }

  /** One line per move, for armor move and armor drain. */
  static String describe(Moved moved) {
    return "moved " + moved.getFromArmorId() + " from node " + moved.getFromNode() + " to node " + moved.getNode()
        + " as Execution ARMOR " + moved.getArmorId()
        + (moved.getServicesCount() == 0 ? "" : ", serving " + String.join(", ", moved.getServicesList()))
        + "; the old instance stopped " + moved.getMillis() + " ms after the request";
  }
}
