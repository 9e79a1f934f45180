package dev.armor.cli;

import dev.armor.faults.Fault;
import dev.armor.faults.FaultReport;
import dev.armor.faults.FaultSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "faults",
    description = {"Run the fault suite: a real cluster in network namespaces (needs root, iproute2 and nftables), a protected",
        "server with a protected and a wrapped client under steady traffic, every fault injected --rounds times at",
        "random moments; prints a table per fault (detection, recovery, client errors, bytes lost or duplicated).",
        "Exits 1 if any injection was visible to a client or not recovered."})
final class FaultsCommand implements Callable<Integer> {

  @Option(names = "--rounds", defaultValue = "20", description = "Injections of each fault (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--faults", defaultValue = "all",
      description = "Comma-separated faults to inject (default: all): server-crash, server-hang, server-stuck, client-crash, "
          + "daemon-crash, node-crash, node-hang, node-partition, node-one-way, partition-with-ftm, node-pause, link-flap, "
          + "ftm-crash, ftm-crash-in-recovery (dev.armor.faults.Fault).")
  String faults;

  @Option(names = "--subnet", defaultValue = "77",
      description = "Third octet of the suite's test network 198.18.X.0/24 (default: ${DEFAULT-VALUE}).")
  int subnet;

  @Option(names = "--seed", description = "Seed of the random order and moments (default: random, printed).")
  Long seed;

  @Option(names = "--markdown", description = "Also write the table to this file.")
  Path markdown;

  @Option(names = "--keep-logs", description = "Keep the cluster's logs (always kept when an injection was not clean).")
  boolean keepLogs;

  @Option(names = "--stable-after",
      description = "Passed to every node of the suite's cluster (default: the cluster's own default, 7s).")
  String stableAfter;

  @Option(names = "--detection-pause",
      description = "Passed to every node of the suite's cluster (default: the cluster's own default, 2s).")
  String detectionPause;

  @Option(names = "--node-lease",
      description = "Passed to every node of the suite's cluster (default: the cluster's own default, 3s).")
  String nodeLease;

  @Option(names = "--out", description = "Also write every injection as JSON to this file.")
  Path json;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1) {
      throw new ArmorCliException("--rounds must be at least 1, but was " + rounds);
    }
    long chosenSeed = seed == null ? ThreadLocalRandom.current().nextLong() : seed;
    System.out.println("faults: seed " + chosenSeed + ", " + rounds + " round(s) of " + faults);
    Path armor = Path.of(System.getProperty("armor.root", "."), "scripts", "armor").toAbsolutePath().normalize();
    java.util.List<String> detection = new java.util.ArrayList<>();
    if (stableAfter != null) {
      detection.addAll(java.util.List.of("--stable-after", stableAfter));
    }
    if (detectionPause != null) {
      detection.addAll(java.util.List.of("--detection-pause", detectionPause));
    }
    if (nodeLease != null) {
      detection.addAll(java.util.List.of("--node-lease", nodeLease));
    }
    FaultReport report = FaultSuite.run(new FaultSuite.Options(rounds, Fault.parse(faults), subnet, chosenSeed, armor,
        keepLogs, detection, System.out));
    String table = report.markdown();
    System.out.println();
    System.out.println(table);
    if (markdown != null) {
      Files.writeString(markdown, table);
    }
    if (json != null) {
      Files.writeString(json, report.json());
    }
    long unclean = report.injections().stream().filter(i -> !i.clean()).count();
    if (unclean > 0) {
      System.out.println("faults: " + unclean + " injection(s) were not recovered cleanly (see the table)");
      return 1;
    }
    return 0;
  }
}
