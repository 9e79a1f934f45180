package dev.armor.ftm;

import com.typesafe.config.Config;
import dev.armor.elements.ArmorActor;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
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

  private FtmNode(ActorSystem<Void> system, Server control, ActorRef<ArmorActor.Command> ftm) {
    this.system = system;
    this.control = control;
    this.ftm = ftm;
  }

  /**
   * Starts an FTM on {@code host}: the control API on {@code controlPort}, the cluster endpoint on
   * {@code clusterPort}. Fails with a {@link BindException} naming the address when a port is taken.
   */
  public static FtmNode start(String host, int controlPort, int clusterPort, List<String> extraSeeds) throws IOException {
    return start(host, controlPort, clusterPort, extraSeeds, ClusterNodeConfig.Detection.DEFAULTS);
  }

  /** As {@link #start(String, int, int, List)}, with the node-loss detection settings. */
  public static FtmNode start(String host, int controlPort, int clusterPort, List<String> extraSeeds,
      ClusterNodeConfig.Detection detection) throws IOException {
    String self = ClusterNodeConfig.address(host, clusterPort);
    List<String> seeds = new java.util.ArrayList<>(List.of(self));
    seeds.addAll(extraSeeds);
    Config config = ClusterNodeConfig.build(host, clusterPort, seeds, List.of(Ftm.ROLE), detection);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterNodeConfig.SYSTEM_NAME, config);
    // The replicator starts on first use; start it now, or majority writes from other nodes time out.
    DistributedData.get(system);
    ActorRef<ArmorActor.Command> ftm = Ftm.init(system);
    Server control;
    try {
      control = startControlApi(system, ftm, host, controlPort, seeds);
    } catch (IOException e) {
      system.terminate();
      throw e;
    }
    log.info("FTM node up: control API on {}:{}, cluster endpoint {}", host, controlPort, self);
    return new FtmNode(system, control, ftm);
  }

  /**
   * Starts the gRPC control API on {@code host:port}, answering through {@code ftm} (the singleton proxy: the FTM
   * may run on any FTM-capable node). {@code seeds} is what {@code GetCluster} tells joining daemons. Fails with a
   * {@link BindException} naming the address when the port is taken.
   */
  public static Server startControlApi(ActorSystem<?> system, ActorRef<ArmorActor.Command> ftm, String host, int port,
      List<String> seeds) throws IOException {
    try {
      return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
          .addService(new ControlService(ftm, system.scheduler(), seeds, "control@" + host))
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
  }

  @Override
  public void close() {
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
