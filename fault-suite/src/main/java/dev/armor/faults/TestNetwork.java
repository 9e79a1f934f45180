package dev.armor.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Hosts for the suite's nodes: one network namespace per node, each joined by a veth pair to a bridge in the root
 * namespace, addresses from 198.18.SUBNET.0/24 (a range reserved for benchmarks). Cutting a node's link (its veth
 * down) is what a node crash looks like from the rest of the cluster: no reset, no FIN, just silence - which a
 * process kill on one machine cannot show, since the dead process's kernel resets its connections at once.
 *
 * <p>Traffic faults (a node cut off while it runs, one direction only) are nftables rules inside the node's namespace.
 *
 * <p>The benchmark's {@code --hosts} run builds its hosts with it too.
 *
 * <p>Needs root (CAP_NET_ADMIN), iproute2 and nftables. Everything it creates carries the subnet in its name and is removed
 * by {@link #close()}, and by {@link #create} if a crashed earlier run left it behind.
 */
public final class TestNetwork implements AutoCloseable {

  private final int subnet;
  private final Map<String, Integer> hosts = new LinkedHashMap<>();

  private TestNetwork(int subnet) {
    this.subnet = subnet;
  }

  /** Creates the bridge and one namespace per node, nodes numbered in order from 198.18.SUBNET.10. */
  public static TestNetwork create(int subnet, List<String> nodes) throws IOException {
    if (subnet < 0 || subnet > 255) {
      throw new IllegalArgumentException("subnet must be 0..255 (198.18.SUBNET.0/24), but was " + subnet);
    }
    TestNetwork network = new TestNetwork(subnet);
    network.removeLeftovers();
    try {
      ip("link", "add", network.bridge(), "type", "bridge");
      ip("addr", "add", "198.18." + subnet + ".1/24", "dev", network.bridge());
      ip("link", "set", network.bridge(), "up");
      for (String node : nodes) {
        network.addHost(node, 10 + network.hosts.size());
      }
    } catch (IOException | RuntimeException e) {
      network.close();
      throw e;
    }
    return network;
  }

  private void addHost(String node, int host) throws IOException {
    hosts.put(node, host);
    String ns = namespace(node);
    String outside = outsideVeth(host);
    String inside = "arp" + subnet + "-" + host;
    ip("netns", "add", ns);
    // A previous run's veth can outlive its namespace for a while (the kernel tears a namespace down in the
    // background): one left with this name is that run's, and goes.
    if (ip("-br", "link", "show").lines().anyMatch(l -> l.startsWith(outside + "@") || l.startsWith(outside + " "))) {
      ip("link", "del", outside);
    }
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", ns);
    ip("link", "set", outside, "master", bridge());
    ip("link", "set", outside, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", inside, "name", "eth0");
    ip("-n", ns, "addr", "add", address(node) + "/24", "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
  }

  public String address(String node) {
    Integer host = hosts.get(node);
    if (host == null) {
      throw new IllegalArgumentException("no node " + node + " in this network; nodes: " + hosts.keySet());
    }
    return "198.18." + subnet + "." + host;
  }

  String namespace(String node) {
    return "armor-" + subnet + "-" + node;
  }

  /** The command run inside the node's namespace. */
  public List<String> inNode(String node, List<String> command) {
    List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    wrapped.addAll(command);
    return wrapped;
  }

  /** Takes the node's link down: the rest of the cluster hears nothing from it any more. */
  void cut(String node) throws IOException {
    ip("link", "set", outsideVeth(hosts.get(node)), "down");
  }

  void restore(String node) throws IOException {
    ip("link", "set", outsideVeth(hosts.get(node)), "up");
  }

  /**
   * Drops the node's traffic with nftables inside its namespace (a table of its own, {@value #FAULT_TABLE}): what it
   * sends ({@code outbound}), what it receives ({@code inbound}), or both, while its link stays up and its processes
   * run. {@link #heal} removes it.
   */
  void block(String node, boolean inbound, boolean outbound) throws IOException {
    StringBuilder script = new StringBuilder("table inet " + FAULT_TABLE + " {\n");
    if (inbound) {
      script.append("  chain in { type filter hook input priority 0; policy accept; iifname \"eth0\" drop; }\n");
    }
    if (outbound) {
      script.append("  chain out { type filter hook output priority 0; policy accept; oifname \"eth0\" drop; }\n");
    }
    script.append("}\n");
    run(inNode(node, List.of("nft", "-f", "-")), script.toString());
  }

  /**
   * Drops the node's traffic with these other nodes only, both ways (one side of a partition that cuts the cluster in
   * two; the other side's nodes need no rule: nothing of theirs reaches this node, nor this node's theirs).
   */
  void blockPeers(String node, List<String> peers) throws IOException {
    String set = String.join(", ", peers.stream().map(this::address).toList());
    String script = "table inet " + FAULT_TABLE + " {\n"
        + "  chain in { type filter hook input priority 0; policy accept; ip saddr { " + set + " } drop; }\n"
        + "  chain out { type filter hook output priority 0; policy accept; ip daddr { " + set + " } drop; }\n"
        + "}\n";
    run(inNode(node, List.of("nft", "-f", "-")), script);
  }

  /** The suite's nodes, in the order they were created. */
  List<String> nodes() {
    return List.copyOf(hosts.keySet());
  }

  /** Removes what {@link #block} added; nothing when nothing was blocked. */
  void heal(String node) throws IOException {
    if (run(inNode(node, List.of("nft", "list", "tables")), "").contains(FAULT_TABLE)) {
      run(inNode(node, List.of("nft", "delete", "table", "inet", FAULT_TABLE)), "");
    }
  }

  /** The nftables table the suite's traffic faults live in, inside a node's namespace. */
  static final String FAULT_TABLE = "armorfault";

  /** The processes running in the node's namespace. */
  List<Long> pids(String node) throws IOException {
    String out = ip("netns", "pids", namespace(node));
    List<Long> pids = new ArrayList<>();
    for (String line : out.split("\\s+")) {
      if (!line.isBlank()) {
        pids.add(Long.parseLong(line.trim()));
      }
    }
    return pids;
  }

  /**
   * SIGKILLs everything in the node's namespace; returns what it killed (command lines), for the suite to tell
   * whether something was there that should not have been.
   */
  List<String> killAll(String node) throws IOException {
    List<String> killed = new ArrayList<>();
    for (long pid : pids(node)) {
      ProcessHandle.of(pid).ifPresent(process -> {
        killed.add(pid + " " + process.info().commandLine().orElse("?"));
        process.destroyForcibly();
      });
    }
    return killed;
  }

  private String bridge() {
    return "armbr" + subnet;
  }

  private void removeLeftovers() throws IOException {
    for (String line : ip("netns", "list").split("\n")) {
      String ns = line.split(" ")[0].trim();
      if (ns.startsWith("armor-" + subnet + "-")) {
        killNamespace(ns);
      }
    }
    ipQuietly("link", "del", bridge());
  }

  private static void killNamespace(String ns) {
    try {
      for (String pid : ip("netns", "pids", ns).split("\\s+")) {
        if (!pid.isBlank()) {
          ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    } catch (IOException e) {
      // the namespace is being removed anyway
    }
    ipQuietly("netns", "del", ns);
  }

  @Override
  public void close() {
    for (Map.Entry<String, Integer> host : hosts.entrySet()) {
      killNamespace(namespace(host.getKey()));
      // The namespace's end goes with the namespace only once the kernel drops its last reference to it, which was
      // seen to take longer than the run (veths of a finished run still up): this end takes its peer with it now.
      ipQuietly("link", "del", outsideVeth(host.getValue()));
    }
    ipQuietly("link", "del", bridge());
  }

  /** The root namespace's end of a host's veth pair (on the bridge). */
  private String outsideVeth(int host) {
    return "arv" + subnet + "-" + host;
  }

  private static void ipQuietly(String... args) {
    try {
      ip(args);
    } catch (IOException e) {
      // already gone
    }
  }

  static String ip(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    return run(command, null);
  }

  /** Runs {@code command} with {@code input} on its stdin (null: none); its output, or an IOException saying why not. */
  private static String run(List<String> command, String input) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (input != null) {
      try (var stdin = process.getOutputStream()) {
        stdin.write(input.getBytes(StandardCharsets.UTF_8));
      }
    } else {
      process.getOutputStream().close();
    }
    try {
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + out.trim()
            + " (the fault suite needs root, iproute2 and nftables to build and break its network namespaces)");
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
  }
}
