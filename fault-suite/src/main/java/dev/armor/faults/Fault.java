package dev.armor.faults;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The single failures the suite injects, in an operator's words. */
public enum Fault {
  SERVER_CRASH("server-crash", "SIGKILL of the protected server process"),
  SERVER_HANG("server-hang", "SIGSTOP of the protected server process (a hang: no exit, no progress)"),
  SERVER_STUCK("server-stuck", "the protected server's workers stuck (each blocks before its next answer) while its "
      + "process and shim run on: a hang heartbeats miss, found from progress (--progress-timeout 4s)"),
  CLIENT_CRASH("client-crash", "SIGKILL of the protected client process"),
  DAEMON_CRASH("daemon-crash", "SIGKILL of the daemon on the server's node"),
  NODE_CRASH("node-crash", "the server node's link cut, then every process on it SIGKILLed"),
  NODE_HANG("node-hang", "SIGSTOP of the daemon on the server's node, resumed after the cluster moved on"),
  NODE_PARTITION("node-partition", "the server's node cut off from every other node while it runs on (nftables drops "
      + "its traffic both ways), healed once the cluster moved its work"),
  NODE_ONE_WAY("node-one-way", "nothing the server's node sends arrives, while it hears the others (nftables drops "
      + "its outbound traffic), healed once the cluster moved its work"),
  PARTITION_WITH_FTM("partition-with-ftm", "the cluster cut in two: the FTM's node and the server's node on one "
      + "side, the three other nodes on the other (nftables), healed once the majority moved the work"),
  NODE_PAUSE("node-pause", "every process of the server's node stopped at once (SIGSTOP: a frozen VM), resumed once "
      + "the cluster moved its work"),
  LINK_FLAP("link-flap", "the server node's link down for 300 ms five times, a second apart (each cut far shorter "
      + "than the node lease): nothing may move"),
  FTM_CRASH("ftm-crash", "SIGKILL of the process running the FTM, while idle"),
  FTM_CRASH_IN_RECOVERY("ftm-crash-in-recovery",
      "SIGKILL of the server node's daemon, then of the FTM's process once it has started the recovery");

  private final String label;
  private final String description;

  Fault(String label, String description) {
    this.label = label;
    this.description = description;
  }

  public String label() {
    return label;
  }

  public String description() {
    return description;
  }

  /** Parses a comma-separated list of labels; "all" is every fault. */
  public static List<Fault> parse(String labels) {
    if (labels.isBlank() || labels.equals("all")) {
      return List.of(values());
    }
    return Arrays.stream(labels.split(",")).map(String::trim).map(Fault::byLabel).toList();
  }

  static Fault byLabel(String label) {
    for (Fault fault : values()) {
      if (fault.label.equals(label)) {
        return fault;
      }
    }
    throw new IllegalArgumentException("unknown fault '" + label + "'; known: "
        + Arrays.stream(values()).map(Fault::label).collect(Collectors.joining(", ")));
  }

  /** Whether Armor must detect something: a link that flaps within the node lease must go unnoticed. */
  boolean expectsDetection() {
    return this != LINK_FLAP;
  }

  /** Whether the fault takes the server's whole node (daemon) away, so the server must move. */
  boolean losesServerNode() {
    return this == DAEMON_CRASH || this == NODE_CRASH || this == NODE_HANG || this == FTM_CRASH_IN_RECOVERY
        || this == NODE_PARTITION || this == NODE_ONE_WAY || this == NODE_PAUSE || this == PARTITION_WITH_FTM;
  }
}
