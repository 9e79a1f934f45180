package dev.armor.ftm;

import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.ServiceEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FTM's tables (APP_SERVER_DB, the daemon registry and the Execution ARMOR table) replicated with Pekko Distributed Data, so that an
 * FTM taking over on another node starts from them.
 *
 * <p>Writes go to a majority of nodes without blocking the FTM; the FTM answers a registration once its own
 * table is updated, so a failover within the write's few milliseconds can lose the newest row (the daemon then
 * registers again when it re-registers with the new FTM).
 */
final class ReplicatedTables implements AppServerDb.Store, FtmElement.Tables {

  private static final Logger log = LoggerFactory.getLogger(ReplicatedTables.class);

  static final Key<LWWMap<String, ServiceEntry>> SERVICES = LWWMapKey.create("armor-app-server-db");
  static final Key<LWWMap<String, DaemonRegistration>> DAEMONS = LWWMapKey.create("armor-daemons");
  static final Key<LWWMap<String, ExecutionArmorRow>> EXECUTIONS = LWWMapKey.create("armor-execution-armors");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);

  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final ActorSystem<?> system;

  ReplicatedTables(ActorSystem<?> system) {
    this.system = system;
    DistributedData data = DistributedData.get(system);
    this.replicator = data.replicator();
    this.self = data.selfUniqueAddress();
  }

  @Override
  public void put(ServiceEntry entry) {
    replicator.tell(
        new Replicator.Update<>(
            SERVICES, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), system.ignoreRef(),
            map -> map.put(self, entry.getService(), entry)));
  }

  @Override
  public void remove(String service) {
    replicator.tell(
        new Replicator.Update<>(
            SERVICES, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), system.ignoreRef(),
            map -> map.remove(self, service)));
  }

  @Override
  public void putDaemon(DaemonRegistration daemon) {
    replicator.tell(
        new Replicator.Update<>(
            DAEMONS, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), system.ignoreRef(),
            map -> map.put(self, daemon.getNode(), daemon)));
  }

  @Override
  public void removeDaemon(String node) {
    replicator.tell(
        new Replicator.Update<>(
            DAEMONS, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), system.ignoreRef(),
            map -> map.remove(self, node)));
  }

  /** Records an Execution ARMOR row; rows are never removed (a REPLACED row keeps its old id from registering). */
  @Override
  public java.util.concurrent.CompletionStage<Boolean> putExecution(ExecutionArmorRow row) {
    return AskPattern.<Replicator.Command, Replicator.UpdateResponse<LWWMap<String, ExecutionArmorRow>>>ask(
            replicator,
            replyTo -> new Replicator.Update<>(
                EXECUTIONS, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), replyTo,
                map -> map.put(self, row.getArmorId(), row)),
            WRITE_TIMEOUT.plusSeconds(1), system.scheduler())
        .thenApply(response -> response instanceof Replicator.UpdateSuccess);
  }

  List<ExecutionArmorRow> loadExecutions(Duration timeout) {
    return new ArrayList<>(load(EXECUTIONS, timeout).getEntries().values());
  }

  List<ServiceEntry> loadServices(Duration timeout) {
    return new ArrayList<>(load(SERVICES, timeout).getEntries().values());
  }

  List<DaemonRegistration> loadDaemons(Duration timeout) {
    return new ArrayList<>(load(DAEMONS, timeout).getEntries().values());
  }

  /**
   * Reads a table from a majority, falling back to this node's copy. Blocks: it runs once, while a new FTM
   * starts and before it takes any request.
   */
  private <V> LWWMap<String, V> load(Key<LWWMap<String, V>> key, Duration timeout) {
    for (Replicator.ReadConsistency consistency :
        List.of(new Replicator.ReadMajority(timeout), Replicator.readLocal())) {
      try {
        Replicator.GetResponse<LWWMap<String, V>> response =
            AskPattern.<Replicator.Command, Replicator.GetResponse<LWWMap<String, V>>>ask(
                    replicator, replyTo -> new Replicator.Get<>(key, consistency, replyTo), timeout.plusSeconds(1),
                    system.scheduler())
                .toCompletableFuture()
                .get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        if (response instanceof Replicator.GetSuccess<LWWMap<String, V>> success) {
          return success.get(key);
        }
        if (response instanceof Replicator.NotFound) {
          return LWWMap.create();
        }
        log.warn("reading {} with {} failed ({}); trying this node's copy", key.id(), consistency, response);
      } catch (Exception e) {
        log.warn("reading {} with {} failed: {}; trying this node's copy", key.id(), consistency, e.toString());
      } 
    }
    return LWWMap.create();
  }
}
