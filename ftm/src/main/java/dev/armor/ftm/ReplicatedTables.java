package dev.armor.ftm;

import com.google.protobuf.ByteString;
import dev.armor.elements.Armors;
import dev.armor.elements.standard.AppServerDb;
import dev.armor.elements.wire.DaemonRegistration;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.LaunchEnvironment;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.security.TableSeal;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ddata.GCounter;
import org.apache.pekko.cluster.ddata.GCounterKey;
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
 * table is updated (every lookup goes to the FTM, so from then on every node finds the service), and the row
 * reaches a majority shortly after.
 *
 * <p>APP_SERVER_DB rows are written behind, coalesced: a change waits up to {@link #SERVICE_WRITE_DELAY} (plus the
 * scheduler's 10 ms tick) and goes out in one majority write with every other change of that window, the latest per
 * address. Measured on the loaded 2-core host, a majority write per registration sent at the moment of the FTM's
 * answer took the same threads and the same connection as that answer and doubled its trip back to the daemon
 * (3.7 ms against 1.6 ms p50 with no write); a bind that closes at once wrote twice. Written behind, the write goes
 * out after the answer, and a burst of binds (an app opening its listeners, a migration) costs one write. The price:
 * a failover within that window plus the write's few milliseconds (about 25 ms instead of about 5) starts the next
 * FTM without the newest changes, as before only the newest; the registrations among them come back from the
 * daemons' reports in its reconciliation ({@code AppServerDb.restore}). The daemon registry and the Execution ARMOR table are written at once, as
 * before (a migration waits for its rows on a majority).
 *
 * <p>Every member holds a replica of these tables, daemons that may never host the FTM included, so an Execution ARMOR
 * row's launch environment (which may carry secrets) is written sealed with the cluster's tables key ({@link
 * TableSeal}, bound to the ARMOR id), which only nodes that may host the FTM hold; {@link #loadExecutions} opens it.
 */
final class ReplicatedTables implements AppServerDb.Store, FtmElement.Tables {

  private static final Logger log = LoggerFactory.getLogger(ReplicatedTables.class);

  static final Key<LWWMap<String, ServiceEntry>> SERVICES = LWWMapKey.create("armor-app-server-db");
  static final Key<LWWMap<String, DaemonRegistration>> DAEMONS = LWWMapKey.create("armor-daemons");
  static final Key<LWWMap<String, ExecutionArmorRow>> EXECUTIONS = LWWMapKey.create("armor-execution-armors");
  /** Counts the FTM's majority confirmations; the count means nothing, the acknowledgements do. */
  static final Key<GCounter> CONFIRMATIONS = GCounterKey.create("armor-ftm-confirmations");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);
  /** How long an APP_SERVER_DB change waits for others to share its write; see the class comment. */
  static final Duration SERVICE_WRITE_DELAY = Duration.ofMillis(10);

  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final ActorSystem<?> system;
  private final Duration serviceWriteDelay;
  private final TableSeal seal;
  private final java.util.concurrent.atomic.AtomicInteger serviceWrites = new java.util.concurrent.atomic.AtomicInteger();
  private final Object unwrittenLock = new Object();
  /** APP_SERVER_DB changes not written yet, the latest per address (a removal is empty); guarded by unwrittenLock. */
  private Map<String, Optional<ServiceEntry>> unwritten = new LinkedHashMap<>();

  ReplicatedTables(ActorSystem<?> system, TableSeal seal) {
    this(system, seal, SERVICE_WRITE_DELAY);
  }

  ReplicatedTables(ActorSystem<?> system, TableSeal seal, Duration serviceWriteDelay) {
    this.system = system;
    this.seal = java.util.Objects.requireNonNull(seal, "seal");
    this.serviceWriteDelay = serviceWriteDelay;
    DistributedData data = DistributedData.get(system);
    this.replicator = data.replicator();
    this.self = data.selfUniqueAddress();
  }

  /** Under APP_SERVER_DB's key: the address, or for a localhost service the address and its node. */
  @Override
  public void put(ServiceEntry entry) {
    writeBehind(AppServerDb.keyOf(entry), Optional.of(entry));
  }

  @Override
  public void remove(String key) {
    writeBehind(key, Optional.empty());
  }

  /** Keeps the change for the next write, and schedules that write if none is due. */
  private void writeBehind(String key, Optional<ServiceEntry> change) {
    boolean first;
    synchronized (unwrittenLock) {
      first = unwritten.isEmpty();
      unwritten.put(key, change);
    }
    if (first) {
      system.scheduler().scheduleOnce(serviceWriteDelay, this::writeServices, system.executionContext());
    }
  }

  @Override
  public void writePending() {
    writeServices();
  }

  /** One majority write with every change kept since the last. */
  private void writeServices() {
    Map<String, Optional<ServiceEntry>> changes;
    synchronized (unwrittenLock) {
      changes = unwritten;
      unwritten = new LinkedHashMap<>();
    }
    if (!changes.isEmpty()) {
      serviceWrites.incrementAndGet();
      replicator.tell(
          new Replicator.Update<>(
              SERVICES, LWWMap.create(), new Replicator.WriteMajority(WRITE_TIMEOUT), system.ignoreRef(),
              map -> apply(map, changes)));
    }
  }

  /** How many APP_SERVER_DB writes went out, for tests. */
  int serviceWrites() {
    return serviceWrites.get();
  }

  private LWWMap<String, ServiceEntry> apply(LWWMap<String, ServiceEntry> map, Map<String, Optional<ServiceEntry>> changes) {
    LWWMap<String, ServiceEntry> updated = map;
    for (Map.Entry<String, Optional<ServiceEntry>> change : changes.entrySet()) {
      updated = change.getValue().isPresent()
          ? updated.put(self, change.getKey(), change.getValue().get())
          : updated.remove(self, change.getKey());
    }
    return updated;
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
    ExecutionArmorRow sealed = sealed(row);
    return updateOnMajority(EXECUTIONS, LWWMap.create(), map -> map.put(self, sealed.getArmorId(), sealed));
  }

  /** The row as replicated: its launch environment sealed, the clear map emptied. */
  ExecutionArmorRow sealed(ExecutionArmorRow row) {
    LaunchProcess launch = row.getLaunch();
    if (launch.getEnvironmentCount() == 0) {
      return row;
    }
    byte[] environment = LaunchEnvironment.newBuilder().putAllVariables(launch.getEnvironmentMap()).build().toByteArray();
    return row.toBuilder().setLaunch(launch.toBuilder().clearEnvironment()
        .setSealedEnvironment(ByteString.copyFrom(seal.seal(environment, row.getArmorId())))).build();
  }

  /**
   * The row as the FTM uses it: its environment opened. One that cannot be opened (sealed with another cluster's key,
   * or altered) keeps an empty environment and is said, with the ARMOR it belongs to.
   */
  ExecutionArmorRow opened(ExecutionArmorRow row) {
    LaunchProcess launch = row.getLaunch();
    if (launch.getSealedEnvironment().isEmpty()) {
      return row;
    }
    LaunchProcess.Builder open = launch.toBuilder().clearSealedEnvironment();
    try {
      byte[] environment = seal.open(launch.getSealedEnvironment().toByteArray(), row.getArmorId());
      open.putAllEnvironment(LaunchEnvironment.parseFrom(environment).getVariablesMap());
    } catch (IOException e) {
      log.error("the launch environment of Execution ARMOR {} cannot be opened ({}): if its work moves, it starts with"
          + " an empty environment", row.getArmorId(), e.getMessage());
    }
    return row.toBuilder().setLaunch(open).build();
  }

  /**
   * A write that a majority must acknowledge. Pekko's majority counts every member this node knows, reachable or
   * not, and the others quarantine a member they downed: an FTM whose node was paused, downed and replaced while it
   * slept (it does not know yet) gets no majority, and so cannot speak for the cluster.
   */
  @Override
  public java.util.concurrent.CompletionStage<Boolean> confirmOnMajority() {
    return updateOnMajority(CONFIRMATIONS, GCounter.create(), counter -> counter.increment(self, 1));
  }

  /** Updates {@code key} on a majority: true once a majority has it, false if that did not happen in time. */
  private <T extends org.apache.pekko.cluster.ddata.ReplicatedData> java.util.concurrent.CompletionStage<Boolean>
      updateOnMajority(Key<T> key, T empty, java.util.function.Function<T, T> modify) {
    return Armors.<Replicator.Command, Replicator.UpdateResponse<T>>ask(
            replicator,
            replyTo -> new Replicator.Update<>(key, empty, new Replicator.WriteMajority(WRITE_TIMEOUT), replyTo, modify),
            WRITE_TIMEOUT.plusSeconds(1), system.scheduler())
        .thenApply(response -> response instanceof Replicator.UpdateSuccess);
  }

  List<ExecutionArmorRow> loadExecutions(Duration timeout) {
    List<ExecutionArmorRow> rows = new ArrayList<>();
    for (ExecutionArmorRow row : load(EXECUTIONS, timeout).getEntries().values()) {
      rows.add(opened(row));
    }
    return rows;
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
            Armors.<Replicator.Command, Replicator.GetResponse<LWWMap<String, V>>>ask(
                    replicator, replyTo -> new Replicator.Get<>(key, consistency, replyTo), timeout.plusSeconds(1),
                    system.scheduler())
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
