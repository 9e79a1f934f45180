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

  /** Whether the fault takes the server's whole node (daemon) away, so the server must move. */
  boolean losesServerNode() {
    return this == DAEMON_CRASH || this == NODE_CRASH || this == NODE_HANG || this == FTM_CRASH_IN_RECOVERY;
  }
}
