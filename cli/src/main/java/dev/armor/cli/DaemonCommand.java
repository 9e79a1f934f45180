package dev.armor.cli;

import dev.armor.daemon.DaemonNode;
import dev.armor.daemon.DaemonSettings;
import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.relay.RelayConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "daemon", description = "Start this node's daemon and join the cluster through an FTM.")
final class DaemonCommand implements Callable<Integer> {

  @Option(names = "--node", required = true, description = "This node's name, unique in the cluster.")
  String node;

  @Option(names = "--host", required = true, description = "This node's own address (e.g. 127.0.0.2).")
  String host;

  @Option(names = "--join", paramLabel = "HOST:PORT", description = "The FTM's control address, or several separated by commas (an FTM and FTM-capable daemons; "
      + "the first that answers is used) (default: $ARMOR_FTM, else " + FtmAddress.DEFAULT + ").")
  String join;

  @Option(names = "--cluster-port", defaultValue = "" + ClusterNodeConfig.DEFAULT_CLUSTER_PORT,
      description = "Cluster endpoint port on this node's address (default: ${DEFAULT-VALUE}).")
  int clusterPort;

  @Option(names = "--ftm-capable", description = "This node may also host the FTM, and serves the FTM control API "
      + "(on --host:--control-port) from whichever node holds the FTM.")
  boolean ftmCapable;

  @Option(names = "--control-port", defaultValue = "" + DaemonSettings.DEFAULT_CONTROL_PORT,
      description = "With --ftm-capable: the control API port on --host (default: ${DEFAULT-VALUE}, as armor ftm).")
  int controlPort;

  @Mixin Detection detection;

  @Option(names = "--hold-timeout", defaultValue = "60s",
      description = "How long a client's connection is held open while its service recovers (default: ${DEFAULT-VALUE}).")
  String holdTimeout;

  @Option(names = "--replay-log", defaultValue = "8MiB",
      description = "Per connection of a replay service, how much of the client's stream is kept (default: ${DEFAULT-VALUE}).")
  String replayLog;

  @Option(names = "--replay-overflow", defaultValue = "reconnect",
      description = "What a connection past --replay-log gets at its next recovery: reconnect or reset (default: ${DEFAULT-VALUE}).")
  String replayOverflow;

  @Option(names = "--detach", description = "Run in the background; return once the daemon is registered.")
  boolean detach;

  /** The data-plane options, validated here so a bad value fails before the daemon starts. */
  DaemonSettings.DataPlane dataPlane() {
    RelayConfig.ReplayOverflow overflow = switch (replayOverflow) {
      case "reconnect" -> RelayConfig.ReplayOverflow.RECONNECT;
      case "reset" -> RelayConfig.ReplayOverflow.RESET;
      default -> throw new IllegalArgumentException("--replay-overflow must be reconnect or reset, but was '" + replayOverflow + "'");
    };
    long bytes = Sizes.parse("--replay-log", replayLog);
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--replay-log must be at most 2GiB, but was " + replayLog);
    }
    return new DaemonSettings.DataPlane(Durations.parse("--hold-timeout", holdTimeout), (int) bytes, overflow);
  }

  @Override
  public Integer call() throws Exception {
    DaemonSettings.DataPlane dataPlane = dataPlane();
    detection.settings(); // a bad value fails here, before anything starts
    ArmorHome home = ArmorHome.resolve();
    FtmAddress ftm = new FtmAddress();
    ftm.ftm = join;
    String name = "daemon-" + node;
    if (detach) {
      List<String> args = new ArrayList<>(List.of("daemon", "--node", node, "--host", host, "--join", ftm.target(),
          "--cluster-port", "" + clusterPort, "--hold-timeout", holdTimeout, "--replay-log", replayLog,
          "--replay-overflow", replayOverflow));
      if (ftmCapable) {
        args.addAll(List.of("--ftm-capable", "--control-port", "" + controlPort));
      }
      args.addAll(detection.arguments());
      long pid = Detacher.spawn(name, args, home, Duration.ofSeconds(90));
      System.out.println("daemon " + node + " started (pid " + pid + ") on " + host + ", log " + home.logs().resolve(name + ".log"));
      return 0;
    }
    DaemonSettings settings = new DaemonSettings(node, host, clusterPort, ftm.target(), home.root(),
        Installation.shimJar(), ftmCapable, Duration.ofSeconds(5), dataPlane, detection.settings(), controlPort);
    DaemonNode daemon = DaemonNode.start(settings);
    home.writePid(name);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> home.removePid(name)));
    daemon.awaitTermination();
    return 0;
  }
}
