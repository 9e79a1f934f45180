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
 * <p>Needs root (CAP_NET_ADMIN) and iproute2. Everything it creates carries the subnet in its name and is removed
 * by {@link #close()}, and by {@link #create} if a crashed earlier run left it behind.
 */
final class TestNetwork implements AutoCloseable {

  private final int subnet;
  private final Map<String, Integer> hosts = new LinkedHashMap<>();

  private TestNetwork(int subnet) {
    this.subnet = subnet;
  }

  /** Creates the bridge and one namespace per node, nodes numbered in order from 198.18.SUBNET.10. */
  static TestNetwork create(int subnet, List<String> nodes) throws IOException {
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
    String outside = "arv" + subnet + "-" + host;
    String inside = "arp" + subnet + "-" + host;
    ip("netns", "add", ns);
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", ns);
    ip("link", "set", outside, "master", bridge());
    ip("link", "set", outside, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", inside, "name", "eth0");
    ip("-n", ns, "addr", "add", address(node) + "/24", "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
  }

  String address(String node) {
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
  List<String> inNode(String node, List<String> command) {
    List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    wrapped.addAll(command);
    return wrapped;
  }

  /** Takes the node's link down: the rest of the cluster hears nothing from it any more. */
  void cut(String node) throws IOException {
    ip("link", "set", "arv" + subnet + "-" + hosts.get(node), "down");
  }

  void restore(String node) throws IOException {
    ip("link", "set", "arv" + subnet + "-" + hosts.get(node), "up");
  }

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
    for (String node : hosts.keySet()) {
      killNamespace(namespace(node));
    }
    ipQuietly("link", "del", bridge());
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
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + out.trim()
            + " (the fault suite needs root and iproute2 to build its network namespaces)");
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
  }
}
