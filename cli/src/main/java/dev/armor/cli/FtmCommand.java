package dev.armor.cli;

import dev.armor.ftm.ClusterNodeConfig;
import dev.armor.ftm.FtmNode;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "ftm", description = "Start an FTM (fault tolerance manager) on this host.")
final class FtmCommand implements Callable<Integer> {

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "7700", description = "Control API port for the CLI and joining daemons (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--cluster-port", defaultValue = "" + ClusterNodeConfig.DEFAULT_CLUSTER_PORT,
      description = "Cluster endpoint port on the same host (default: ${DEFAULT-VALUE}).")
  int clusterPort;

  @Option(names = "--seed", split = ",",
      description = "Another FTM-capable node's cluster address (pekko://armor@HOST:PORT); several: repeated or "
          + "comma-separated.")
  List<String> seeds = new ArrayList<>();

  @Option(names = "--config", paramLabel = "FILE",
      description = "A HOCON file setting any of these options (a section 'ftm { ... }', each key an option's name"
          + " without its dashes); a flag here overrides it. See README, \"A configuration file\".")
  java.nio.file.Path config;

  @Option(names = "--detach", description = "Run in the background; return once the FTM is up.")
  boolean detach;

  @Mixin Detection detection;

  /** The FTM process's name as a cluster node (its certificate's): one per host and cluster port. */
  static String nodeName(String host, int clusterPort) {
    return "ftm-" + host.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + clusterPort;
  }

  @Override
  public Integer call() throws Exception {
    detection.settings(); // a bad value fails here, before anything starts
    Ports.check("--port", port);
    Ports.check("--cluster-port", clusterPort);
    ArmorHome home = ArmorHome.resolve();
    String name = "ftm-" + host + "-" + port;
    if (detach) {
      List<String> args = new ArrayList<>(List.of("ftm", "--host", host, "--port", "" + port, "--cluster-port", "" + clusterPort));
      seeds.forEach(s -> { args.add("--seed"); args.add(s); });
      args.addAll(detection.arguments());
      long pid = Detacher.spawn(name, args, home, Duration.ofSeconds(60));
      System.out.println("FTM started (pid " + pid + "): control API " + host + ":" + port + ", log " + home.logs().resolve(name + ".log"));
      return 0;
    }
    // The first FTM on a host makes the cluster's credential; its own identity is a node certificate of it.
    Pki pki = Pki.at(home.root());
    pki.initialize();
    FtmNode node = FtmNode.start(host, port, clusterPort, seeds, detection.settings(),
        pki.credentials(Identity.node(nodeName(host, clusterPort))), pki.tableSeal());
    home.writePid(name);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> home.removePid(name)));
    node.awaitTermination();
    return 0;
  }
}
