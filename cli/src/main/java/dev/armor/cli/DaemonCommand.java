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

  @Option(names = "--replay-overflow", defaultValue = "RECONNECT", paramLabel = "reconnect|reset",
      description = "What a connection past --replay-log gets at its next recovery: reconnect or reset (default: reconnect).")
  RelayConfig.ReplayOverflow replayOverflow;

  @Option(names = "--recovery-stall-timeout", defaultValue = "5s",
      description = "How long a recovered connection waits for the restarted server to speak (a replay: to "
          + "reproduce what the client already has; a reconnect: to answer a client that waits) before the client "
          + "gets the reset it would have had without Armor; at least twice the slowest answer seen on that "
          + "connection (default: ${DEFAULT-VALUE}).")
  String recoveryStallTimeout;

  @Option(names = "--heartbeat", defaultValue = "500ms",
      description = "How often a protected app's shim tells this daemon it is alive (default: ${DEFAULT-VALUE}).")
  String heartbeat;

  @Option(names = "--hang-timeout", defaultValue = "3s",
      description = "A protected process silent this long is hung: killed (SIGKILL) and restarted like a crash; "
          + "armor run --hang-timeout overrides it per launch (default: ${DEFAULT-VALUE}, six heartbeats).")
  String hangTimeout;

  @Option(names = "--shim-lease", defaultValue = "5s",
      description = "A protected app whose heartbeats this daemon leaves unanswered this long halts itself; keep it "
          + "shorter than the cluster's down decision (about 9.5 s) (default: ${DEFAULT-VALUE}).")
  String shimLease;

  @Option(names = "--no-fencing",
      description = "Protected apps keep running (and reconnect) when this daemon dies or freezes, instead of halting.")
  boolean noFencing;

  @Option(names = "--link-keepalive", defaultValue = "10s",
      description = "Kernel TCP keepalive on links between daemons: idle time before probing a silent link, so a"
          + " link to a vanished node is noticed without the FTM; 0 turns it off (default: ${DEFAULT-VALUE}).")
  String linkKeepalive;

  @Option(names = "--links", defaultValue = "AUTO", paramLabel = "dedicated|multiplexed|auto",
      description = "How this daemon's connections reach other daemons: a TCP link per connection (fastest; two file"
          + " descriptors per connection on each daemon), links multiplexed over a few shared TCP connections per daemon"
          + " pair (one descriptor per connection), or auto: dedicated until half of the process's file descriptor limit"
          + " is in use, multiplexed from then on (default: auto).")
  RelayConfig.LinkMode links;

  @Option(names = "--data-path", defaultValue = "DIRECT", paramLabel = "direct|relayed",
      description = "Which daemons a connection's bytes pass through: direct, the client's daemon connects straight"
          + " to the server app (one proxy on the path; the server's daemon keeps a link for the connection's control"
          + " and still tells a crash from a close), or relayed, through both daemons. A connection is relayed anyway"
          + " while links are multiplexed or where the app cannot be reached directly (default: direct).")
  RelayConfig.DataPath dataPath;

  @Option(names = "--execution-armors", defaultValue = "in-daemon", paramLabel = "in-daemon|process",
      description = "Where Execution ARMORs run: inside the daemon, or each as a process of its own (default: ${DEFAULT-VALUE}: "
          + "one JVM fewer per protected app, and no JVM start in an ARMOR's recovery).")
  String executionArmors;

  @Option(names = "--armor-heartbeat", defaultValue = "1s",
      description = "How often the daemon heartbeats each local Execution ARMOR (default: ${DEFAULT-VALUE}).")
  String armorHeartbeat;

  @Option(names = "--armor-heartbeat-timeout", defaultValue = "5s",
      description = "An Execution ARMOR silent this long is hung; a process-mode one is killed and reinstalled "
          + "(default: ${DEFAULT-VALUE}, well above GC and scheduling pauses of a loaded machine).")
  String armorHeartbeatTimeout;

  @Option(names = "--config", paramLabel = "FILE",
      description = "A HOCON file setting any of these options (a section 'daemon { ... }', each key an option's name"
          + " without its dashes); a flag here overrides it. See README, \"A configuration file\".")
  java.nio.file.Path config;

  @Option(names = "--detach", description = "Run in the background; return once the daemon is registered.")
  boolean detach;

  /** An enum option's value as it is typed (picocli converts it back, case-insensitively: Main). */
  private static String lower(Enum<?> value) {
    return value.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The data-plane options, validated here so a bad value fails before the daemon starts. */
  DaemonSettings.DataPlane dataPlane() {
    long bytes = Sizes.parse("--replay-log", replayLog);
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--replay-log must be at most 2GiB, but was " + replayLog);
    }
    Duration keepalive = linkKeepalive.trim().equals("0") ? Duration.ZERO : Durations.parse("--link-keepalive", linkKeepalive);
    if (!keepalive.isZero() && (keepalive.compareTo(Duration.ofSeconds(1)) < 0 || keepalive.compareTo(Duration.ofHours(1)) > 0)) {
      throw new IllegalArgumentException("--link-keepalive must be 0 (off) or from 1s to 60m, but was '" + linkKeepalive + "'");
    }
    return new DaemonSettings.DataPlane(Durations.parse("--hold-timeout", holdTimeout), (int) bytes, replayOverflow,
        Durations.parse("--recovery-stall-timeout", recoveryStallTimeout), keepalive, links, dataPath);
  }

  /** The liveness options, validated here so a bad value fails before the daemon starts. */
  DaemonSettings.Liveness liveness() {
    return new DaemonSettings.Liveness(Durations.parse("--heartbeat", heartbeat),
        Durations.parse("--hang-timeout", hangTimeout), Durations.parse("--shim-lease", shimLease), !noFencing);
  }

  /** The Execution ARMOR options, validated here so a bad value fails before the daemon starts. */
  DaemonSettings.ExecutionArmors executionArmors() {
    return new DaemonSettings.ExecutionArmors(DaemonSettings.ExecutionArmors.Mode.parse(executionArmors),
        Durations.parse("--armor-heartbeat", armorHeartbeat), Durations.parse("--armor-heartbeat-timeout", armorHeartbeatTimeout));
  }

  @Override
  public Integer call() throws Exception {
    DaemonSettings.DataPlane dataPlane = dataPlane();
    DaemonSettings.Liveness liveness = liveness();
    DaemonSettings.ExecutionArmors armors = executionArmors();
    detection.settings(); // a bad value fails here, before anything starts
    Ports.check("--cluster-port", clusterPort);
    Ports.check("--control-port", controlPort);
    ArmorHome home = ArmorHome.resolve();
    FtmAddress ftm = new FtmAddress();
    ftm.ftm = join;
    String name = "daemon-" + node;
    if (detach) {
      List<String> args = new ArrayList<>(List.of("daemon", "--node", node, "--host", host, "--join", ftm.target(),
          "--cluster-port", "" + clusterPort, "--hold-timeout", holdTimeout, "--replay-log", replayLog,
          "--replay-overflow", lower(replayOverflow), "--recovery-stall-timeout", recoveryStallTimeout, "--heartbeat", heartbeat, "--hang-timeout", hangTimeout,
          "--shim-lease", shimLease, "--link-keepalive", linkKeepalive, "--links", lower(links), "--data-path", lower(dataPath),
          "--execution-armors", executionArmors,
          "--armor-heartbeat", armorHeartbeat, "--armor-heartbeat-timeout", armorHeartbeatTimeout));
      if (ftmCapable) {
        args.addAll(List.of("--ftm-capable", "--control-port", "" + controlPort));
      }
      if (noFencing) {
        args.add("--no-fencing");
      }
      args.addAll(detection.arguments());
      long pid = Detacher.spawn(name, args, home, Duration.ofSeconds(90));
      System.out.println("daemon " + node + " started (pid " + pid + ") on " + host + ", log " + home.logs().resolve(name + ".log"));
      return 0;
    }
    DaemonSettings settings = new DaemonSettings(node, host, clusterPort, ftm.target(), home.root(),
        Installation.shimJar(), ftmCapable, Duration.ofSeconds(5), dataPlane, liveness, armors,
        detection.settings(), controlPort);
    DaemonNode daemon = DaemonNode.start(settings);
    home.writePid(name);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> home.removePid(name)));
    daemon.awaitTermination();
    return 0;
  }
}
