package dev.armor.cli;

import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.ftm.lease.NodeLeaseSettings;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The node-loss detection options of {@code armor ftm} and {@code armor daemon}. Every node of a cluster should use
 * the same values: the failure detector runs on each node and the split brain resolver decides on the leader.
 *
 * <p>The defaults trade speed for safety: a lost node is unreachable after about 2 s of silence and downed after
 * 7 s more of a stable picture, so its work moves about 12 s after the loss (ARCHITECTURE.md). Lower values move work
 * sooner but down nodes that only paused (a long GC, an overloaded host), whose servers then run twice until they
 * notice they were fenced.
 */
final class Detection {

  @Option(names = "--detection-pause", defaultValue = "2s",
      description = "Silence after which a node is unreachable (the failure detector's acceptable heartbeat pause; "
          + "default: ${DEFAULT-VALUE}; at least 1s).")
  String pause;

  @Option(names = "--stable-after", defaultValue = "7s",
      description = "How long an unreachable node must stay so before the cluster downs it and its work moves "
          + "(split brain resolver; default: ${DEFAULT-VALUE}).")
  String stableAfter;

  @Option(names = "--heartbeat-interval", defaultValue = "1s",
      description = "How often the FTM pings each daemon, for the log and status; it never downs a node "
          + "(default: ${DEFAULT-VALUE}).")
  String heartbeatInterval;

  @Option(names = "--node-lease", defaultValue = "3s",
      description = "How long a daemon's node lease lasts: its protected apps halt when it cannot renew it with a "
          + "quorum of the cluster within this, and a lost node's work moves once a majority agrees it ended, about "
          + "this plus a tenth after the loss; 0 turns node leases off (a node is lost only when the cluster downs "
          + "it). At least 500ms (default: ${DEFAULT-VALUE}).")
  String nodeLease;

  ClusterNodeConfig.Detection settings() {
    return new ClusterNodeConfig.Detection(Durations.parse("--detection-pause", pause),
        Durations.parse("--stable-after", stableAfter), Durations.parse("--heartbeat-interval", heartbeatInterval),
        new NodeLeaseSettings(nodeLease.equals("0") ? java.time.Duration.ZERO : Durations.parse("--node-lease", nodeLease)));
  }

  /** The same options, for a detached child process. */
  List<String> arguments() {
    return List.of("--detection-pause", pause, "--stable-after", stableAfter, "--heartbeat-interval", heartbeatInterval,
        "--node-lease", nodeLease);
  }
}
