package dev.armor.faults;

import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.wire.ClusterStatus;
import io.grpc.ManagedChannel;
import dev.armor.security.Pki;
import io.grpc.Grpc;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The suite's real cluster: two FTM processes ({@code ftm1}, {@code ftm2}: the FTM singleton runs on the older, the
 * other takes over) and daemons, each node a namespace of its {@link TestNetwork}, all started through
 * {@code scripts/armor} with a private {@code ARMOR_HOME}. Status comes from whichever FTM control API answers. The
 * benchmark's {@code --hosts} run starts its cluster with it too (one FTM process).
 */
public final class SuiteCluster implements AutoCloseable {

  static final int CONTROL_PORT = 7700;
  static final int CLUSTER_PORT = 25520;

  private final TestNetwork network;
  private final Path armor;
  private final Path home;
  private final List<String> ftms;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private final List<Process> apps = new ArrayList<>();
  private final List<String> detectionOptions;

  public SuiteCluster(TestNetwork network, Path armor, Path home, List<String> ftms, List<String> detectionOptions) {
    this.detectionOptions = List.copyOf(detectionOptions);
    this.network = network;
    this.armor = armor;
    this.home = home;
    this.ftms = ftms;
  }

  public Path home() {
    return home;
  }

  TestNetwork network() {
    return network;
  }

  record Result(int exit, String out) {
    Result orThrow(String what) throws IOException {
      if (exit != 0) {
        throw new IOException(what + " failed (exit " + exit + "):\n" + out);
      }
      return this;
    }
  }

  /** {@code scripts/armor ARGS} inside the node's namespace. */
  Result armor(String node, Duration timeout, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(armor.toString()));
    command.addAll(Arrays.asList(args));
    ProcessBuilder builder = new ProcessBuilder(network.inNode(node, command)).redirectErrorStream(true);
    builder.environment().put("ARMOR_HOME", home.toString());
    builder.environment().put("ARMOR_FTM", liveFtmControl());
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process process = builder.start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    });
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        return new Result(-1, "timed out after " + timeout + ": " + out.getNow(""));
      }
      return new Result(process.exitValue(), out.get(5, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IOException("armor " + String.join(" ", args) + " on " + node + ": " + e, e);
    }
  }

  /** Starts an FTM process on {@code node}; with a seed it joins the running cluster. */
  public void startFtm(String node, Optional<String> seedNode) throws IOException {
    List<String> args = new ArrayList<>(List.of("ftm", "--host", network.address(node), "--port", "" + CONTROL_PORT,
        "--cluster-port", "" + CLUSTER_PORT, "--detach"));
    seedNode.ifPresent(seed -> {
      args.add("--seed");
      args.add("pekko://armor@" + network.address(seed) + ":" + CLUSTER_PORT);
    });
    args.addAll(detectionOptions);
    armor(node, Duration.ofSeconds(120), args.toArray(String[]::new)).orThrow("starting the FTM on " + node);
  }

  public void startDaemon(String node) throws IOException {
    List<String> args = new ArrayList<>(List.of("daemon", "--node", node, "--host", network.address(node),
        "--join", liveFtmControl(), "--cluster-port", "" + CLUSTER_PORT, "--detach"));
    args.addAll(detectionOptions);
    armor(node, Duration.ofSeconds(120), args.toArray(String[]::new)).orThrow("starting the daemon of " + node);
  }

  /** {@code armor run} on a node; returns the Execution ARMOR's id. */
  public String run(String node, List<String> options, List<String> command) throws IOException {
    List<String> args = new ArrayList<>(List.of("run", "--node", node));
    args.addAll(options);
    args.add("--");
    args.addAll(command);
    String out = armor(node, Duration.ofSeconds(120), args.toArray(String[]::new)).orThrow("armor run on " + node).out();
    return out.replaceFirst("(?s).*Execution ARMOR (\\S+) .*", "$1").trim();
  }

  /** The JVM options ({@code armor agent-opts}) that wrap an app started on {@code node} to that node's daemon. */
  public String agentOptions(String node) throws IOException {
    return armor(node, Duration.ofSeconds(60), "agent-opts", "--node", node).orThrow("agent-opts").out().trim();
  }

  /** Starts a JVM by hand inside the node, wrapped to its daemon by {@code armor agent-opts}. */
  Process startWrapped(String node, List<String> command, Path log) throws IOException {
    String options = agentOptions(node);
    ProcessBuilder builder = new ProcessBuilder(network.inNode(node, command))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("JAVA_TOOL_OPTIONS", options);
    Process process = builder.start();
    apps.add(process);
    return process;
  }

  Path log(String name) {
    return home.resolve("logs").resolve(name + ".log");
  }

  /** The pid the {@code armor} launcher recorded for a node process ({@code daemon-n1}, {@code ftm-HOST-PORT}). */
  Optional<Long> nodePid(String name) {
    try {
      return Optional.of(Long.parseLong(Files.readString(home.resolve("pids").resolve(name + ".pid")).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  String ftmProcessName(String node) {
    return "ftm-" + network.address(node) + "-" + CONTROL_PORT;
  }

  /** The cluster's status from the first FTM control API that answers, if any does. */
  Optional<ClusterStatus> status(Duration timeout) {
    for (String ftm : ftms) {
      try {
        return Optional.of(ArmorControlGrpc.newBlockingStub(channel(ftm))
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .status(StatusRequest.getDefaultInstance()));
      } catch (StatusRuntimeException | UncheckedIOException e) {
        // try the next one (or the FTM has not made the credential yet)
      }
    }
    return Optional.empty();
  }

  /**
   * A channel to {@code ftm}'s control API, as the operator (the first FTM made the credential in the shared home):
   * made on first use, once the FTM has started.
   */
  private synchronized ManagedChannel channel(String ftm) {
    return channels.computeIfAbsent(ftm, f -> {
      try {
        return Grpc.newChannelBuilder(network.address(f) + ":" + CONTROL_PORT, Pki.at(home).person().channelCredentials())
            .build();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /**
   * Every FTM control address, those that accept a connection first: the CLI and {@code --join} use the first that
   * answers, so a command still works while one FTM process is dead.
   */
  String liveFtmControl() {
    List<String> answering = new ArrayList<>();
    List<String> silent = new ArrayList<>();
    for (String ftm : ftms) {
      String address = network.address(ftm) + ":" + CONTROL_PORT;
      (controlAnswers(ftm) ? answering : silent).add(address);
    }
    answering.addAll(silent);
    return String.join(",", answering);
  }

  /** Whether the FTM process on {@code node} accepts connections on its control port. */
  boolean controlAnswers(String node) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress(network.address(node), CONTROL_PORT), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    apps.forEach(Process::destroyForcibly);
    synchronized (this) {
      channels.values().forEach(ManagedChannel::shutdownNow);
    }
    network.close();
  }
}
