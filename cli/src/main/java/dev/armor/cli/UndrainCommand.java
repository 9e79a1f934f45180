package dev.armor.cli;

import dev.armor.elements.control.DrainRequest;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "undrain", description = {
    "armor undrain NODE: a drained node takes work again (a node also does once its daemon restarts). What was moved "
        + "off it stays where it went (armor move brings a process back)."})
final class UndrainCommand implements Callable<Integer> {

  @Parameters(paramLabel = "NODE", description = "The drained node.")
  String node;

  @Mixin FtmAddress ftm;

  @Override
  public Integer call() throws Exception {
    try (FtmClient client = new FtmClient(ftm.target())) {
      try {
        client.stub(30).undrain(DrainRequest.newBuilder().setNode(node).build());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException("cannot undrain " + node + ": " + client.explain(e));
      }
      System.out.println("node " + node + " takes work again");
      return 0;
    }
  }
}
