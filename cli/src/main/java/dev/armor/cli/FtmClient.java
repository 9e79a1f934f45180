package dev.armor.cli;

import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.GetClusterRequest;
import dev.armor.security.Credentials;
import dev.armor.security.Pki;
import dev.armor.security.TlsHandshake;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
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

  FtmClient(String targets) throws IOException {
    this(targets, Pki.at(ArmorHome.resolve().root()).person());
  }

  /** Calls as {@code caller}: the control API takes only certificates of the cluster's CA, over mutual TLS. */
  FtmClient(String targets, Credentials caller) throws IOException {
    ChannelCredentials tls = caller.channelCredentials();
    List<String> candidates = FtmAddress.split(targets);
    String chosen = candidates.get(0);
    ManagedChannel open = null;
    if (candidates.size() > 1) {
      for (String candidate : candidates) {
        ManagedChannel channel = Grpc.newChannelBuilder(candidate, tls).build();
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
    this.channel = open != null ? open : Grpc.newChannelBuilder(chosen, tls).build();
  }

  ArmorControlGrpc.ArmorControlBlockingStub stub(long timeoutSeconds) {
    return ArmorControlGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
  }

  /** What went wrong, said for the operator. */
  String explain(StatusRuntimeException e) {
    return switch (e.getStatus().getCode()) {
      case UNAVAILABLE -> e.getStatus().getDescription() != null && e.getStatus().getDescription().startsWith("the FTM")
          ? e.getStatus().getDescription()
          : TlsHandshake.certificateRefusal(e.getStatus())
              .map(reason -> "no TLS session with the FTM at " + target + " (is it another cluster's? this host trusts"
                  + " the CA in $ARMOR_HOME/pki/ca.crt): " + reason)
              .orElse("no FTM answers at " + target + " (start one with: armor ftm --host HOST --port PORT)");
      case DEADLINE_EXCEEDED -> "the FTM at " + target + " did not answer in time";
      case UNAUTHENTICATED, PERMISSION_DENIED -> "the FTM at " + target + " refused the call: " + e.getStatus().getDescription();
      default -> e.getStatus().getDescription() == null ? e.getStatus().toString() : e.getStatus().getDescription();
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
