package dev.armor.execution.process;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorClock;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.execution.ExecutionElement;
import dev.armor.execution.ProcessLauncher;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Execution ARMOR as a process of its own, started by its daemon:
 * {@code ExecutionArmorMain --channel SOCKET --armor ID --node NODE --log-dir DIR --agent-options OPTS
 * [--hang-timeout-ms MS]}.
 *
 * <p>Design note. The process hosts the same {@link ExecutionElement} the daemon hosts in {@code in-daemon} mode,
 * in an {@link ArmorActor} of a local actor system (no remoting, no cluster membership: the ARMOR is a leaf behind
 * its daemon). Everything it sends goes over the {@link ArmorChannel} to the daemon, which routes it; everything
 * for it comes back the same way. The process lives exactly as long as its channel: when the daemon goes away
 * (end of stream) or stops it (SIGTERM), the ARMOR stops its app (the element's {@code stopped}) and exits, so
 * neither it nor its app outlives the daemon.
 */
public final class ExecutionArmorMain {

  private static final Logger log = LoggerFactory.getLogger(ExecutionArmorMain.class);
  /** How long a request the daemon forwarded here may wait for the ARMOR's answer (a launch may take a while). */
  private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration APP_STOP_GRACE = Duration.ofSeconds(6);

  private ExecutionArmorMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals("--train")) {
      train();
      return;
    }
    Map<String, String> options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("ExecutionArmorMain: " + e.getMessage());
      System.exit(2);
      return;
    }
    long startNanos = System.nanoTime();
    String armorId = options.get("--armor");
    String node = options.get("--node");
    Path channelPath = Path.of(options.get("--channel"));
    String agentOptions = options.get("--agent-options");

    SocketChannel socket;
    try {
      socket = SocketChannel.open(StandardProtocolFamily.UNIX);
      socket.connect(UnixDomainSocketAddress.of(channelPath));
    } catch (IOException e) {
      System.err.println("Execution ARMOR " + armorId + ": cannot reach its daemon at " + channelPath + ": " + e.getMessage());
      System.exit(1);
      return;
    }

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "armor-execution", localConfig());
    CompletableFuture<ArmorChannel> channelRef = new CompletableFuture<>();
    // The daemon's default hang timeout, for launches that do not set their own.
    java.time.Duration hangTimeout = options.containsKey("--hang-timeout-ms")
        ? java.time.Duration.ofMillis(Long.parseLong(options.get("--hang-timeout-ms")))
        : ExecutionElement.DEFAULT_HANG_TIMEOUT;
    ExecutionElement execution = new ExecutionElement(node, ProcessLauncher.SYSTEM, Path.of(options.get("--log-dir")),
        id -> agentOptions, hangTimeout);
    ActorRef<ArmorActor.Command> armor = system.systemActorOf(
        ArmorActor.create(armorId, List.of(execution), (message, replyTo) -> toDaemon(channelRef.join(), message, replyTo),
            ArmorClock.SYSTEM),
        armorId, org.apache.pekko.actor.typed.Props.empty());

    ArmorChannel channel = ArmorChannel.open(socket, "daemon of " + armorId, new ArmorChannel.Handler() {
      @Override
      public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {
        fromDaemon(system, armor, message, reply);
      }

      @Override
      public void closed(ArmorChannel closedChannel, String reason) {
        log.info("Execution ARMOR {}: the channel to its daemon closed ({}); stopping its app and exiting", armorId, reason);
        stop(system, 0);
      }
    });
    channelRef.complete(channel);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stopApps(system), "armor-execution-stop"));
    channel.hello(armorId, ProcessHandle.current().pid());
    log.info("Execution ARMOR {} (pid {}) up on node {}, {} ms after the JVM started its main", armorId,
        ProcessHandle.current().pid(), node, (System.nanoTime() - startNanos) / 1_000_000);
  }

  private static boolean toDaemon(ArmorChannel channel, ArmorMessage message, ActorRef<ArmorMessage> replyTo) {
    return replyTo == null ? channel.send(message) : channel.request(message, replyTo::tell);
  }

  private static void fromDaemon(ActorSystem<Void> system, ActorRef<ArmorActor.Command> armor, ArmorMessage message,
      Consumer<ArmorMessage> reply) {
    if (reply == null) {
      armor.tell(new ArmorActor.Deliver(message, null));
      return;
    }
    dev.armor.elements.Armors.ask(armor, message, REQUEST_TIMEOUT, system.scheduler())
        .whenComplete((answer, failure) -> reply.accept(answer != null ? answer
            : ArmorMessage.newBuilder().setFrom(message.getTo()).setTo(message.getFrom())
                .setCorrelationId(message.getCorrelationId())
                .setError("ARMOR " + message.getTo() + " did not answer: " + failure.getMessage()).build()));
  }

  /** Stops the ARMOR (its element stops the app) and exits. */
  private static void stop(ActorSystem<Void> system, int status) {
    Thread stopper = new Thread(() -> {
      stopApps(system);
      System.exit(status);
    }, "armor-execution-exit");
    stopper.start();
  }

  /**
   * Terminates the actor system, whose ARMOR asks its app to stop, and makes sure the app is gone before the
   * process exits: what is still running after the grace is killed.
   */
  private static void stopApps(ActorSystem<Void> system) {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("the ARMOR's actor system did not stop cleanly: {}", e.toString());
    }
    long deadline = System.nanoTime() + APP_STOP_GRACE.toNanos();
    while (ProcessHandle.current().children().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
  }

  /**
   * A training run for a class-data-sharing archive (the daemon runs it once with {@code -XX:ArchiveClassesAtExit}):
   * loads what an ARMOR process loads before its HELLO and its first requests, then exits.
   */
  private static void train() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "armor-execution", localConfig());
    ExecutionElement execution = new ExecutionElement("training", ProcessLauncher.SYSTEM,
        Path.of(System.getProperty("java.io.tmpdir")), id -> "");
    ActorRef<ArmorActor.Command> armor = system.systemActorOf(
        ArmorActor.create("training", List.of(execution), (message, replyTo) -> false, ArmorClock.SYSTEM),
        "training", org.apache.pekko.actor.typed.Props.empty());
    ArmorMessage describe = dev.armor.elements.Armors.message("daemon", "training", dev.armor.elements.Ops.DESCRIBE_PROCESS,
        com.google.protobuf.Empty.getDefaultInstance());
    dev.armor.elements.Armors.ask(armor, describe, Duration.ofSeconds(30), system.scheduler())
        .get(30, TimeUnit.SECONDS);
    ArmorChannel.decode(new java.io.DataInputStream(new java.io.ByteArrayInputStream(
        ArmorChannel.encode(ArmorChannel.REQUEST, 1, describe).array())));
    try (SocketChannel unused = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      log.debug("training run: Unix socket classes loaded");
    }
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.exit(0);
  }

  /** A plain local actor system: the ARMOR process is not a cluster member and listens on nothing. */
  static Config localConfig() {
    return ConfigFactory.parseString(
            "pekko.actor.provider = local\n"
                + "pekko.loglevel = WARNING\n"
                + "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                + "pekko.jvm-exit-on-fatal-error = on\n")
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!List.of("--channel", "--armor", "--node", "--log-dir", "--agent-options", "--hang-timeout-ms").contains(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      options.put(args[i], args[i + 1]);
    }
    for (String required : List.of("--channel", "--armor", "--node", "--log-dir", "--agent-options")) {
      if (!options.containsKey(required)) {
        throw new IllegalArgumentException("missing " + required
            + " (usage: --channel SOCKET --armor ID --node NODE --log-dir DIR --agent-options OPTS)");
      }
    }
    return options;
  }
}
