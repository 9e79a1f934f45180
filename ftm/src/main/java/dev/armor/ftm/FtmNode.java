package dev.armor.ftm;

import com.typesafe.config.Config;
import dev.armor.elements.ArmorActor;
import dev.armor.ftm.lease.NodeDeclaredLost;
import dev.armor.ftm.lease.NodeLeases;
import dev.armor.security.Credentials;
import dev.armor.security.TableSeal;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An FTM process: a cluster node with the {@code ftm} role (so it hosts the FTM singleton) and the gRPC control
 * API on the host and port the operator gave. It is its own cluster's first seed node.
 */
public final class FtmNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FtmNode.class);

  private final ActorSystem<Void> system;
  private final Server control;
  private final ActorRef<ArmorActor.Command> ftm;
  private final FtmChannelServer channel;

  private FtmNode(ActorSystem<Void> system, Server control, ActorRef<ArmorActor.Command> ftm, FtmChannelServer channel) {
    this.system = system;
    this.control = control;
    this.ftm = ftm;
    this.channel = channel;
  }

  /**
   * Starts an FTM on {@code host}: the control API on {@code controlPort}, the cluster endpoint on
   * {@code clusterPort}. Fails with a {@link BindException} naming the address when a port is taken. {@code tables}:
   * the cluster's tables key, which opens the launch environments in the replicated rows.
   */
  public static FtmNode start(String host, int controlPort, int clusterPort, List<String> extraSeeds,
      ClusterNodeConfig.Detection detection, Credentials node, TableSeal tables) throws IOException {
    java.util.Objects.requireNonNull(node, "an FTM node needs its credentials");
    java.util.Objects.requireNonNull(tables, "an FTM node needs the cluster's tables key");
    String self = ClusterNodeConfig.address(host, clusterPort);
    List<String> seeds = new java.util.ArrayList<>(List.of(self));
    seeds.addAll(extraSeeds);
    FtmChannelServer channel = FtmChannelServer.bind(host, node);
    Config config = withChannel(ClusterNodeConfig.build(host, clusterPort, seeds, List.of(Ftm.ROLE), detection, node), channel);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), ClusterNodeConfig.SYSTEM_NAME, config);
    } catch (RuntimeException e) {
      channel.close();
      throw e;
    }
    // The replicator starts on first use; start it now, or majority writes from other nodes time out.
    DistributedData.get(system);
    NodeLeases.startWitness(system);
    // An FTM process runs no apps, but holds a lease all the same: its silence is what lets the successor's voter
    // hand the FTM over in seconds (dev.armor.ftm.lease.LeaseVoter). Declared lost, it stops and rejoins empty.
    NodeLeases.startHolder(system, "ftm@" + ClusterNodeConfig.hostPort(Cluster.get(system).selfMember().address()),
        why -> new Thread(() -> CoordinatedShutdown.get(system).runAll(NodeDeclaredLost.INSTANCE),
            "armor-stop-lost-node").start());
    ActorRef<ArmorActor.Command> ftm = Ftm.init(system, java.util.Optional.of(tables));
    channel.start(ftm, system.scheduler());
    Server control;
    try {
      control = startControlApi(system, ftm, host, controlPort, seeds, node);
    } catch (IOException e) {
      channel.close();
      system.terminate();
      throw e;
    }
    log.info("FTM node up: control API on {}:{}, cluster endpoint {}, FTM channel {}", host, controlPort, self,
        channel.address());
    return new FtmNode(system, control, ftm, channel);
  }

  /** {@code config} with this node's FTM channel address, for the FTM to advertise when it runs here. */
  public static Config withChannel(Config config, FtmChannelServer channel) {
    return com.typesafe.config.ConfigFactory.parseString(Ftm.CHANNEL + " = \"" + channel.address() + "\"")
        .withFallback(config);
  }

  /** A control connection's TLS handshake must be done within this, as on the FTM channel and the data port. */
  static final Duration CONTROL_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** A control connection without a call for this long is closed (the CLI makes one call and leaves). */
  static final Duration CONTROL_IDLE_TIMEOUT = Duration.ofMinutes(1);

  /** Calls one control connection may have at once (the CLI makes one; a status poller a few). */
  static final int CONTROL_CALLS_PER_CONNECTION = 32;

  /** RST_STREAM frames one control connection may send in a second before it is closed ("rapid reset"). */
  static final int CONTROL_RESETS_PER_WINDOW = 100;

  /**
   * Starts the gRPC control API on {@code host:port}, answering through {@code ftm} (the singleton proxy: the FTM
   * may run on any FTM-capable node). {@code seeds} is what {@code GetCluster} tells joining daemons. Mutual TLS
   * under the node's credentials: only certificates of the cluster's CA get in, each call for the roles
   * {@link ControlService#ACCESS} gives it. Fails with a {@link BindException} naming the address when the port is
   * taken.
   */
  public static Server startControlApi(ActorSystem<?> system, ActorRef<ArmorActor.Command> ftm, String host, int port,
      List<String> seeds, Credentials node) throws IOException {
    io.grpc.ServerCredentials tls = node.serverCredentials();
    try {
      // Bounded like every other port (docs/SECURITY.md): gRPC would wait 120 s for a handshake and keep an idle
      // connection forever; every call here is unary and short, so a connection idle for a minute is let go (a
      // client reconnects transparently), and one connection has no use for many calls at once or rapid resets.
      return NettyServerBuilder.forAddress(new InetSocketAddress(host, port), tls)
          .handshakeTimeout(CONTROL_HANDSHAKE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .maxConnectionIdle(CONTROL_IDLE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .maxConcurrentCallsPerConnection(CONTROL_CALLS_PER_CONNECTION)
          .maxRstFramesPerWindow(CONTROL_RESETS_PER_WINDOW, 1)
          .addService(ServerInterceptors.intercept(
              new ControlService(ftm, system.scheduler(), seeds, "control@" + host), ControlService.ACCESS))
          .build()
          .start();
    } catch (IOException e) {
      BindException bind = new BindException(
          "the FTM control port " + host + ":" + port + " is not available: " + e.getMessage());
      bind.initCause(e);
      throw bind;
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public ActorRef<ArmorActor.Command> ftm() {
    return ftm;
  }

  public void awaitTermination() throws InterruptedException {
    system.getWhenTerminated().toCompletableFuture().join();
    control.shutdownNow();
    channel.close();
  }

  @Override
  public void close() {
    channel.close();
    control.shutdown();
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      control.awaitTermination(2, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("FTM node did not stop cleanly within {}: {}", Duration.ofSeconds(12), e.toString());
    }
  }
}
