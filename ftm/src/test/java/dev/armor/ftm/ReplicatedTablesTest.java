package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import dev.armor.elements.Armors;
import dev.armor.elements.wire.ExecutionArmorRow;
import dev.armor.elements.wire.ExecutionArmorState;
import dev.armor.elements.wire.LaunchProcess;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.security.TableSeal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * APP_SERVER_DB rows are written behind and coalesced (see {@link ReplicatedTables}): on a one-node cluster (a
 * majority of one), the replicated table ends up with the latest change per address, in one write per window, and a
 * stopping FTM writes what it kept at once.
 */
class ReplicatedTablesTest {

  private static final TableSeal SEAL = TableSeal.of(new byte[32]);
  private static ActorTestKit testKit;

  @BeforeAll
  static void startOneNodeCluster() {
    // Port 0: an ephemeral port, so this test never meets another cluster on the machine.
    // exit-jvm off: armor-cluster.conf ends a node's JVM with its actor system, which would end the test JVM too.
    testKit = ActorTestKit.create(ClusterNodeConfig.SYSTEM_NAME,
        ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off")
            .withFallback(ClusterNodeConfig.buildInsecure("127.0.0.1", 0, List.of(), List.of(Ftm.ROLE))));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> cluster.selfMember().status() == MemberStatus.up());
    DistributedData.get(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void serviceChanges_goOutInOneWrite_withTheLatestChangePerAddress() {
    ReplicatedTables tables = new ReplicatedTables(testKit.system(), SEAL, Duration.ofMillis(300));

    tables.put(entry("10.0.0.1:7000", 1));
    tables.put(entry("10.0.0.1:7001", 1));
    tables.remove("10.0.0.1:7000");
    tables.put(entry("10.0.0.1:7002", 1));
    tables.put(entry("10.0.0.1:7002", 2));

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(incarnations(tables)).containsOnlyKeys("10.0.0.1:7001", "10.0.0.1:7002"));
    assertThat(incarnations(tables)).containsEntry("10.0.0.1:7002", 2);
    assertThat(tables.serviceWrites()).isEqualTo(1);
  }

  @Test
  void writePending_writesWhatWasKept_withoutWaitingForTheWindow() {
    ReplicatedTables tables = new ReplicatedTables(testKit.system(), SEAL, Duration.ofHours(1));

    tables.put(entry("10.0.0.2:7000", 1));
    assertThat(incarnations(tables)).doesNotContainKey("10.0.0.2:7000");
    tables.writePending();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(incarnations(tables)).containsEntry("10.0.0.2:7000", 1));
    assertThat(tables.serviceWrites()).isEqualTo(1);
  }

  @Test
  void launchEnvironments_areReplicatedSealed_andOnlyTheTablesKeyOpensThem() throws Exception {
    ReplicatedTables tables = new ReplicatedTables(testKit.system(), SEAL, Duration.ofHours(1));
    ExecutionArmorRow row = ExecutionArmorRow.newBuilder().setArmorId("exec-n1-env").setNode("n1")
        .setState(ExecutionArmorState.ACTIVE)
        .setLaunch(LaunchProcess.newBuilder().setArmorId("exec-n1-env").addCommand("/bin/app")
            .putEnvironment("DB_PASSWORD", "hunter2").putEnvironment("MODE", "prod"))
        .build();

    assertThat(tables.putExecution(row).toCompletableFuture().get(10, TimeUnit.SECONDS)).isTrue();

    // What every member's replica holds: no environment in the clear, nothing of the secret in the sealed bytes.
    ExecutionArmorRow replicated = Armors.<Replicator.Command, Replicator.GetResponse<LWWMap<String, ExecutionArmorRow>>>ask(
            DistributedData.get(testKit.system()).replicator(),
            replyTo -> new Replicator.Get<>(ReplicatedTables.EXECUTIONS, Replicator.readLocal(), replyTo),
            Duration.ofSeconds(5), testKit.system().scheduler())
        .toCompletableFuture().get(10, TimeUnit.SECONDS)
        instanceof Replicator.GetSuccess<LWWMap<String, ExecutionArmorRow>> success
        ? success.get(ReplicatedTables.EXECUTIONS).getEntries().get("exec-n1-env") : null;
    assertThat(replicated).isNotNull();
    assertThat(replicated.getLaunch().getEnvironmentMap()).isEmpty();
    assertThat(replicated.getLaunch().getSealedEnvironment().toStringUtf8()).doesNotContain("hunter2", "DB_PASSWORD");
    assertThat(replicated.getLaunch().getCommandList()).containsExactly("/bin/app");

    // The FTM's own reading opens it; a seal of another key (another cluster's) cannot, and leaves it empty.
    assertThat(launchOf(tables, "exec-n1-env").getEnvironmentMap())
        .containsExactly(Map.entry("DB_PASSWORD", "hunter2"), Map.entry("MODE", "prod"));
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    ReplicatedTables stranger = new ReplicatedTables(testKit.system(), TableSeal.of(otherKey), Duration.ofHours(1));
    assertThat(launchOf(stranger, "exec-n1-env").getEnvironmentMap()).isEmpty();
    assertThat(launchOf(stranger, "exec-n1-env").getSealedEnvironment().isEmpty()).isTrue();
  }

  private static LaunchProcess launchOf(ReplicatedTables tables, String armorId) {
    return tables.loadExecutions(Duration.ofSeconds(3)).stream().filter(r -> r.getArmorId().equals(armorId))
        .findFirst().orElseThrow().getLaunch();
  }

  private static Map<String, Integer> incarnations(ReplicatedTables tables) {
    return tables.loadServices(Duration.ofSeconds(3)).stream()
        .collect(Collectors.toMap(ServiceEntry::getService, ServiceEntry::getIncarnation));
  }

  private static ServiceEntry entry(String service, int incarnation) {
    return ServiceEntry.newBuilder().setService(service).setArmorId("exec-n1-a").setNode("n1")
        .setIncarnation(incarnation).build();
  }
}
