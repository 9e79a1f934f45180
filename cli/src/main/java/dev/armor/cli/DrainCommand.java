package dev.armor.cli;

import dev.armor.elements.control.DrainRequest;
import dev.armor.elements.control.Drained;
import dev.armor.elements.control.Moved;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "drain", description = {
    "armor drain NODE: move every protected process off NODE (each as armor move, to the nodes with the fewest "
        + "ARMORs), to patch or stop the node; the FTM places no work there until its daemon restarts (or armor "
        + "undrain). Returns once all moved."})
final class DrainCommand implements Callable<Integer> {

  @Parameters(paramLabel = "NODE", description = "The node to drain (armor status lists them).")
  String node;

  @Mixin FtmAddress ftm;

  @Override
  public Integer call() throws Exception {
    try (FtmClient client = new FtmClient(ftm.target())) {
      Drained drained;
      try {
        drained = client.stub(MoveCommand.TIMEOUT_SECONDS).drain(DrainRequest.newBuilder().setNode(node).build());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException("cannot drain " + node + ": " + client.explain(e));
      }
      for (Moved moved : drained.getMovesList()) {
        System.out.println(MoveCommand.describe(moved));
      }
      System.out.println("node " + node + " drained: " + drained.getMovesCount() + " protected process(es) moved off it;"
          + " it takes work again once its daemon restarts (or: armor undrain " + node + ")");
      return 0;
    }
  }
}
