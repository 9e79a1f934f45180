package dev.armor.cli;

import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.GetClusterRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A connection to an FTM's control API; turns gRPC failures into messages an operator understands.
 *
 * <p>Given several addresses ({@code a:7700,b:7700}: an FTM process and FTM-capable daemons), it uses the first that
 * answers; any of them reaches the FTM singleton wherever it runs.
 */
final class FtmClient implements AutoCloseable {

  private static final long PROBE_SECONDS = 2;

  private final String target;
  private final ManagedChannel channel;

  FtmClient(String targets) {
    List<String> candidates = FtmAddress.split(targets);
    String chosen = candidates.get(0);
    ManagedChannel open = null;
    if (candidates.size() > 1) {
      for (String candidate : candidates) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(candidate).usePlaintext().build();
        try {
          ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(PROBE_SECONDS, TimeUnit.SECONDS)
              .getCluster(GetClusterRequest.getDefaultInstance());
          chosen = candidate;
          open = channel;
          break;
        } catch (StatusRuntimeException e) {
          channel.shutdownNow();
        }
      }
    }
    this.target = open == null && candidates.size() > 1 ? String.join(",", candidates) : chosen;
    this.channel = open != null ? open : ManagedChannelBuilder.forTarget(chosen).usePlaintext().build();
  }

  ArmorControlGrpc.ArmorControlBlockingStub stub(long timeoutSeconds) {
    return ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
  }

  /** What went wrong, said for the operator. */
  String explain(StatusRuntimeException e) {
    return switch (e.getStatus().getCode()) {
      case UNAVAILABLE -> e.getStatus().getDescription() != null && e.getStatus().getDescription().startsWith("the FTM")
          ? e.getStatus().getDescription()
          : "no FTM answers at " + target + " (start one with: armor ftm --host HOST --port PORT)";
      case DEADLINE_EXCEEDED -> "the FTM at " + target + " did not answer in time";
      default -> e.getStatus().getDescription() == null ? e.getStatus().toString() : e.getStatus().getDescription();
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
