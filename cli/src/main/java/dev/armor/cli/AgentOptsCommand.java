package dev.armor.cli;

import dev.armor.elements.control.AgentOptionsReply;
import dev.armor.elements.control.AgentOptionsRequest;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "agent-opts",
    description = "Print the JVM options that wrap a hand-started JVM to a node's daemon, e.g.%n"
        + "  JAVA_TOOL_OPTIONS=\"$(armor agent-opts --node n2)\" java -cp app.jar Main")
final class AgentOptsCommand implements Callable<Integer> {

  @Option(names = "--node", required = true, description = "The node whose daemon the app goes through.")
  String node;

  @Mixin FtmAddress ftm;

  @Override
  public Integer call() throws java.io.IOException {
    try (FtmClient client = new FtmClient(ftm.target())) {
      AgentOptionsReply reply;
      try {
        // A read-only question, often asked by scripts right after a cluster started: give a busy FTM time to answer
        // (10 s was seen to run out on a heavily loaded machine).
        reply = client.stub(30).agentOptions(AgentOptionsRequest.newBuilder().setNode(node).build());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException(client.explain(e));
      }
      System.out.println("-javaagent:" + Installation.shimJar() + "=socket=" + reply.getShimSocket() + ",node="
          + reply.getNode() + dev.armor.daemon.DaemonSettings.hostAgentArgument(reply.getHost()));
    }
    return 0;
  }
}
