package dev.armor.cli;

import dev.armor.elements.control.ArmorControlGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

/** A connection to an FTM's control API; turns gRPC failures into messages an operator understands. */
final class FtmClient implements AutoCloseable {

  private final String target;
  private final ManagedChannel channel;

  FtmClient(String target) {
    this.target = target;
    this.channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
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
