package dev.armor.elements.standard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Ops;
import dev.armor.elements.standard.FakeElementContext.Sent;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.ReassignServices;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.RegisterServiceResult;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.elements.wire.ServiceState;
import dev.armor.elements.wire.UnregisterService;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** APP_SERVER_DB as a plain object: one fake context per operation, a recording Store, a fake node directory. */
class AppServerDbTest {

  private static final String SERVICE = "10.0.0.5:8080";
  private static final String EXEC_A = "exec-node-a-1";
  private static final String EXEC_B = "exec-node-b-1";

  private final RecordingStore store = new RecordingStore();
  private final Map<String, InetSocketAddress> dataAddresses =
      new HashMap<>(Map.of("node-a", new InetSocketAddress("10.0.0.1", 7001), "node-b", new InetSocketAddress("10.0.0.2", 7002)));
  private final AppServerDb.NodeDirectory nodes = node -> Optional.ofNullable(dataAddresses.get(node));
  private long nowMillis = 1_000;
  private AppServerDb db = new AppServerDb(List.of(), store, nodes);

  // ---- register and lookup -----------------------------------------------------------------------

  @Test
  void register_newAddress_isUpWithIncarnationOne() {
    FakeElementContext context = register(SERVICE, EXEC_A, "node-a", 101);

    assertThat(context.error()).isNull();
    assertThat(context.payloadAs(RegisterServiceResult.class))
        .isEqualTo(RegisterServiceResult.newBuilder().setRecovery(false).setIncarnation(1).build());
    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getIncarnation()).isEqualTo(1);
    assertThat(entry.getArmorId()).isEqualTo(EXEC_A);
    assertThat(entry.getNode()).isEqualTo("node-a");
    assertThat(entry.getPid()).isEqualTo(101);
    assertThat(entry.getChangedAtMillis()).isEqualTo(1_000);
    assertThat(context.sent).isEmpty();
  }

  // ---- localhost is every node's own ------------------------------------------------------------------------------

  /** As a daemon of {@code node} sends it. */
  private FakeElementContext fromDaemon(String node, String type, Message argument) {
    FakeElementContext context = new FakeElementContext(ArmorIds.FTM, nowMillis).from(ArmorIds.daemon(node));
    db.handle(Ops.of(type, argument), context);
    return context;
  }

  @Test
  void localhost_isEachNodesOwn_twoNodesServeTheSameLoopbackAddress_eachFindsOnlyItsOwn() {
    String localhost = "127.0.0.1:7000";
    assertThat(fromDaemon("node-a", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(localhost)
        .setArmorId(EXEC_A).setNode("node-a").setPid(101).build()).error()).isNull();
    assertThat(fromDaemon("node-b", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(localhost)
        .setArmorId(EXEC_B).setNode("node-b").setPid(202).build()).error())
        .as("another host's localhost: free, as without Armor").isNull();

    for (String node : List.of("node-a", "node-b")) {
      ServiceLocation location = fromDaemon(node, Ops.LOOKUP_SERVICE,
          LookupService.newBuilder().setService(localhost).build()).payloadAs(ServiceLocation.class);
      assertThat(location.getFound()).isTrue();
      assertThat(location.getEntry().getNode()).as("%s's localhost", node).isEqualTo(node);
    }
    assertThat(fromDaemon("node-c", Ops.LOOKUP_SERVICE, LookupService.newBuilder().setService(localhost).build())
        .payloadAs(ServiceLocation.class).getFound()).as("a third node's localhost serves nothing").isFalse();
    assertThat(store.contents).containsKeys(localhost + "@node-a", localhost + "@node-b");

    // the same node's second bind of it still conflicts, and one node's unregistration leaves the other's
    assertThat(fromDaemon("node-a", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(localhost)
        .setArmorId("exec-node-a-2").setNode("node-a").setPid(303).build()).error()).contains("already served");
    assertThat(fromDaemon("node-a", Ops.UNREGISTER_SERVICE, UnregisterService.newBuilder().setService(localhost)
        .setArmorId(EXEC_A).setReason("closed").build()).error()).isNull();
    assertThat(db.entries()).extracting(ServiceEntry::getNode).containsExactly("node-b");
  }

  @Test
  void aNodesOwnAddressOnLoopback_isNotScoped_otherNodesReachIt() {
    String nodeAddress = "127.0.0.2:7000"; // nodes that share a machine take addresses like this
    fromDaemon("node-a", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(nodeAddress)
        .setArmorId(EXEC_A).setNode("node-a").setPid(101).build());
    assertThat(fromDaemon("node-b", Ops.LOOKUP_SERVICE, LookupService.newBuilder().setService(nodeAddress).build())
        .payloadAs(ServiceLocation.class).getEntry().getNode()).isEqualTo("node-a");
    assertThat(fromDaemon("node-b", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(nodeAddress)
        .setArmorId(EXEC_B).setNode("node-b").setPid(202).build()).error()).contains("already served");
  }

  @Test
  void aLocalhostServiceMovedToAnotherNode_becomesThatNodesLocalhost() {
    String localhost = "127.0.0.1:7000";
    fromDaemon("node-a", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(localhost)
        .setArmorId(EXEC_A).setNode("node-a").setPid(101).build());
    handle(Ops.REASSIGN_SERVICES, ReassignServices.newBuilder().setFromArmorId(EXEC_A).setToArmorId(EXEC_B)
        .setToNode("node-b").setReason("node-a down").build());
    assertThat(store.contents).containsOnlyKeys(localhost + "@node-b");
    assertThat(fromDaemon("node-b", Ops.REGISTER_SERVICE, RegisterService.newBuilder().setService(localhost)
        .setArmorId(EXEC_B).setNode("node-b").setPid(202).build()).payloadAs(RegisterServiceResult.class)
        .getRecovery()).as("the moved ARMOR's bind there is the service's recovery").isTrue();
  }

  // ---- restore (a daemon's report to a starting FTM) ----------------------------------------------------------

  @Test
  void restore_addressTheTableLacks_isRegisteredAsReported() {
    FakeElementContext context = restore(SERVICE, EXEC_A, "node-a", 101);

    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getArmorId()).isEqualTo(EXEC_A);
    assertThat(entry.getPid()).isEqualTo(101);
    assertThat(entry.getIncarnation()).isEqualTo(1);
    assertThat(store.contents).containsEntry(SERVICE, entry);
    assertThat(context.sent).isEmpty();
  }

  @Test
  void restore_recoveringRowOfTheSameArmor_isItsRecovery_andItsClientsAreToldWhereItIs() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    processEvent(EXEC_A, ProcessEventKind.EXITED, 101); // the restart's registration was lost with the FTM

    FakeElementContext context = restore(SERVICE, EXEC_A, "node-a", 202);

    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getPid()).isEqualTo(202);
    assertThat(entry.getIncarnation()).isEqualTo(2);
    assertThat(context.sent).extracting(Sent::to, Sent::type)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ArmorIds.daemon("node-c"), Ops.SERVICE_LOCATED));
  }

  @ParameterizedTest
  @CsvSource({
      "exec-node-a-1, 303", // the same ARMOR, up under another pid: the table's row is newer than the report
      "exec-node-b-1, 101", // another ARMOR holds it: the FTM decided (a migration), the report is stale
  })
  void restore_rowTheTableHasUp_staysAsItIs(String reportedArmor, long reportedPid) {
    register(SERVICE, EXEC_A, "node-a", 101);
    register(SERVICE, EXEC_A, "node-a", 303);
    ServiceEntry before = entry(SERVICE);

    FakeElementContext context = restore(SERVICE, reportedArmor, "node-b", reportedPid);

    assertThat(entry(SERVICE)).isEqualTo(before);
    assertThat(context.sent).isEmpty();
  }

  @Test
  void restore_failedRow_staysFailed() {
    register(SERVICE, EXEC_A, "node-a", 101);
    processEvent(EXEC_A, ProcessEventKind.GAVE_UP, 101);
    ServiceEntry before = entry(SERVICE);

    restore(SERVICE, EXEC_A, "node-a", 101);

    assertThat(entry(SERVICE)).isEqualTo(before);
  }

  @Test
  void lookup_registeredAddress_returnsEntryWithDataAddressOfItsNode() {
    register(SERVICE, EXEC_A, "node-a", 101);

    ServiceLocation location = lookup(SERVICE);

    assertThat(location.getFound()).isTrue();
    assertThat(location.getEntry()).isEqualTo(entry(SERVICE));
    assertThat(location.getDataHost()).isEqualTo("10.0.0.1");
    assertThat(location.getDataPort()).isEqualTo(7001);
  }

  @Test
  void lookup_unknownAddress_returnsNotFound() {
    register(SERVICE, EXEC_A, "node-a", 101);

    assertThat(lookup("10.0.0.5:9999")).isEqualTo(ServiceLocation.newBuilder().setFound(false).build());
  }

  @Test
  void lookup_nodeWithoutKnownDataAddress_returnsEntryWithoutDataAddress() {
    register(SERVICE, EXEC_A, "node-gone", 101);

    ServiceLocation location = lookup(SERVICE);

    assertThat(location.getFound()).isTrue();
    assertThat(location.getDataHost()).isEmpty();
    assertThat(location.getDataPort()).isZero();
  }

  @Test
  void lookup_nodeWithUnresolvedDataAddress_returnsItsHostAsGiven() {
    // A directory that must not block (elements run on the actor thread) hands out unresolved addresses.
    dataAddresses.put("node-c", InetSocketAddress.createUnresolved("node-c.cluster.internal", 7003));
    register(SERVICE, EXEC_A, "node-c", 101);

    ServiceLocation location = lookup(SERVICE);

    assertThat(location.getDataHost()).isEqualTo("node-c.cluster.internal");
    assertThat(location.getDataPort()).isEqualTo(7003);
  }

  // ---- recovery ----------------------------------------------------------------------------------

  @Test
  void register_sameArmorAgain_isRecovery_andTellsInterestedClientNodesWhereItIs() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    interest(SERVICE, "node-d");
    interest(SERVICE, "node-c");
    processEvent(EXEC_A, ProcessEventKind.EXITED, 101);
    nowMillis = 2_000;

    FakeElementContext context = register(SERVICE, EXEC_A, "node-b", 202);

    assertThat(context.payloadAs(RegisterServiceResult.class))
        .isEqualTo(
            RegisterServiceResult.newBuilder()
                .setRecovery(true)
                .setIncarnation(2)
                .addClientNodes("node-c")
                .addClientNodes("node-d")
                .build());
    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getIncarnation()).isEqualTo(2);
    assertThat(entry.getPid()).isEqualTo(202);
    assertThat(entry.getNode()).isEqualTo("node-b");
    assertThat(entry.getChangedAtMillis()).isEqualTo(2_000);
    ServiceLocation location = lookup(SERVICE);
    assertThat(location.getDataHost()).isEqualTo("10.0.0.2");
    assertThat(context.sent)
        .containsExactly(
            new Sent(ArmorIds.daemon("node-c"), Ops.SERVICE_LOCATED, location),
            new Sent(ArmorIds.daemon("node-d"), Ops.SERVICE_LOCATED, location));
  }

  @Test
  void register_sameArmorWhileStillUp_isRecoveryToo() {
    // The restarted process can bind before the old one's exit has been reported.
    register(SERVICE, EXEC_A, "node-a", 101);

    FakeElementContext context = register(SERVICE, EXEC_A, "node-a", 102);

    assertThat(context.payloadAs(RegisterServiceResult.class).getRecovery()).isTrue();
    assertThat(entry(SERVICE).getIncarnation()).isEqualTo(2);
    assertThat(entry(SERVICE).getPid()).isEqualTo(102);
  }

  @Test
  void clientInterest_unknownAddress_isIgnored() {
    interest(SERVICE, "node-c");

    assertThat(db.entries()).isEmpty();
    assertThat(store.writes).isEmpty();
  }

  // ---- migration (node loss) --------------------------------------------------------------------

  @Test
  void reassign_movesTheArmorsServicesRecovering_andTellsClientsToHold_thenTheNewArmorsRegistrationIsARecovery() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    nowMillis = 2_000;

    FakeElementContext move = handle(Ops.REASSIGN_SERVICES, dev.armor.elements.wire.ReassignServices.newBuilder()
        .setFromArmorId(EXEC_A).setToArmorId(EXEC_B).setToNode("node-b").setReason("node node-a down").build());

    ServiceEntry moved = entry(SERVICE);
    assertThat(moved.getArmorId()).isEqualTo(EXEC_B);
    assertThat(moved.getNode()).isEqualTo("node-b");
    assertThat(moved.getState()).isEqualTo(ServiceState.RECOVERING);
    assertThat(moved.getIncarnation()).isEqualTo(1);
    assertThat(move.sent).containsExactly(new Sent(ArmorIds.daemon("node-c"), Ops.SERVICE_RECOVERING, lookup(SERVICE)));

    FakeElementContext old = register(SERVICE, EXEC_A, "node-a", 103);
    assertThat(old.error()).as("the old ARMOR id can never register the service again").contains(EXEC_B);

    FakeElementContext recovered = register(SERVICE, EXEC_B, "node-b", 202);
    assertThat(recovered.payloadAs(RegisterServiceResult.class).getRecovery()).isTrue();
    assertThat(entry(SERVICE).getIncarnation()).isEqualTo(2);
    assertThat(entry(SERVICE).getState()).isEqualTo(ServiceState.UP);
    assertThat(recovered.sent).containsExactly(new Sent(ArmorIds.daemon("node-c"), Ops.SERVICE_LOCATED, lookup(SERVICE)));
  }

  @Test
  void fail_putsTheArmorsServicesFailed_withTheReason_andResetsClients() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");

    FakeElementContext fail = handle(Ops.FAIL_SERVICES, dev.armor.elements.wire.FailServices.newBuilder()
        .setArmorId(EXEC_A).setReason("no live node to move it to").build());

    assertThat(entry(SERVICE).getState()).isEqualTo(ServiceState.FAILED);
    assertThat(entry(SERVICE).getReason()).isEqualTo("no live node to move it to");
    assertThat(fail.sent).extracting(Sent::type).containsExactly(Ops.SERVICE_FAILED);
    assertThat(db.servicesOf(EXEC_A)).containsExactly(SERVICE);
  }

  // ---- conflicts and malformed requests ----------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = ServiceState.class, names = {"UP", "RECOVERING"})
  void register_otherArmorWhileHeld_failsNamingTheHoldersArmorAndNode(ServiceState held) {
    register(SERVICE, EXEC_A, "node-a", 101);
    if (held == ServiceState.RECOVERING) {
      processEvent(EXEC_A, ProcessEventKind.EXITED, 101);
    }
    ServiceEntry before = entry(SERVICE);
    int writesBefore = store.writes.size();

    FakeElementContext context = register(SERVICE, EXEC_B, "node-b", 202);

    assertThat(context.error()).contains(SERVICE).contains(EXEC_A).contains("node-a").contains("pid 101");
    assertThat(context.payload()).isEqualTo(com.google.protobuf.Any.getDefaultInstance());
    assertThat(entry(SERVICE)).isEqualTo(before);
    assertThat(store.writes).hasSize(writesBefore);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "nohost        | service address must be IP:PORT, but was 'nohost'",
        ":8080         | service address must be IP:PORT, but was ':8080'",
        "1.2.3.4:0     | service port must be in 1..65535, but was 0",
        "1.2.3.4:65536 | service port must be in 1..65535, but was 65536",
        "1.2.3.4:x     | service address port is not a number: '1.2.3.4:x'",
      })
  void register_malformedServiceAddress_isRefusedSayingTheRule(String service, String expected) {
    assertThatThrownBy(() -> register(service, EXEC_A, "node-a", 101))
        .isInstanceOf(Ops.MalformedMessageException.class)
        .hasMessage(expected);
    assertThat(db.entries()).isEmpty();
    assertThat(store.writes).isEmpty();
  }

  @Test
  void register_argumentOfWrongType_saysWhatWasExpected() {
    assertThatThrownBy(() -> handle(Ops.REGISTER_SERVICE, LookupService.newBuilder().setService(SERVICE).build()))
        .isInstanceOf(Ops.MalformedMessageException.class)
        .hasMessageContaining("operation " + Ops.REGISTER_SERVICE + " does not carry a RegisterService");
  }

  // ---- process events ----------------------------------------------------------------------------

  @Test
  void processExited_ofServingPid_putsRecovering_andTellsClientsToHold() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    nowMillis = 3_000;

    FakeElementContext context = processEvent(EXEC_A, ProcessEventKind.EXITED, 101);

    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.RECOVERING);
    assertThat(entry.getReason()).isEqualTo("EXITED pid 101");
    assertThat(entry.getChangedAtMillis()).isEqualTo(3_000);
    assertThat(context.sent).containsExactly(new Sent(ArmorIds.daemon("node-c"), Ops.SERVICE_RECOVERING, lookup(SERVICE)));
  }

  @Test
  void processExited_ofStalePid_isIgnored() {
    register(SERVICE, EXEC_A, "node-a", 101);
    register(SERVICE, EXEC_A, "node-a", 102);
    interest(SERVICE, "node-c");
    ServiceEntry before = entry(SERVICE);
    int writesBefore = store.writes.size();

    FakeElementContext context = processEvent(EXEC_A, ProcessEventKind.EXITED, 101);

    assertThat(entry(SERVICE)).isEqualTo(before);
    assertThat(store.writes).hasSize(writesBefore);
    assertThat(context.sent).isEmpty();
  }

  @Test
  void processEvent_ofAnotherArmor_isIgnored() {
    register(SERVICE, EXEC_A, "node-a", 101);
    ServiceEntry before = entry(SERVICE);

    processEvent(EXEC_B, ProcessEventKind.EXITED, 101);
    processEvent(EXEC_B, ProcessEventKind.GAVE_UP, 101);
    processEvent(EXEC_B, ProcessEventKind.STOPPED, 101);

    assertThat(entry(SERVICE)).isEqualTo(before);
  }

  @Test
  void processGaveUp_putsFailed_andTellsClientsItFailed() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    processEvent(EXEC_A, ProcessEventKind.EXITED, 101);

    FakeElementContext context = processEvent(EXEC_A, ProcessEventKind.GAVE_UP, 101);

    assertThat(entry(SERVICE).getState()).isEqualTo(ServiceState.FAILED);
    assertThat(entry(SERVICE).getReason()).isEqualTo("GAVE_UP pid 101");
    assertThat(context.sent).containsExactly(new Sent(ArmorIds.daemon("node-c"), Ops.SERVICE_FAILED, lookup(SERVICE)));
  }

  @Test
  void processStopped_removesTheEntry_andTellsClientsItIsGone() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");

    FakeElementContext context = processEvent(EXEC_A, ProcessEventKind.STOPPED, 101);

    assertThat(db.entries()).isEmpty();
    assertThat(lookup(SERVICE).getFound()).isFalse();
    assertThat(store.contents).isEmpty();
    assertThat(context.sent).singleElement().satisfies(sent -> {
      assertThat(sent.to()).isEqualTo(ArmorIds.daemon("node-c"));
      assertThat(sent.type()).isEqualTo(Ops.SERVICE_FAILED);
      ServiceLocation location = (ServiceLocation) sent.argument();
      assertThat(location.getFound()).isFalse();
      assertThat(location.getEntry().getService()).isEqualTo(SERVICE);
      assertThat(location.getEntry().getReason()).isEqualTo("STOPPED pid 101");
    });
  }

  @Test
  void register_otherArmorAfterFailed_takesTheAddressOver() {
    register(SERVICE, EXEC_A, "node-a", 101);
    processEvent(EXEC_A, ProcessEventKind.GAVE_UP, 101);

    FakeElementContext context = register(SERVICE, EXEC_B, "node-b", 202);

    assertThat(context.error()).isNull();
    ServiceEntry entry = entry(SERVICE);
    assertThat(entry.getState()).isEqualTo(ServiceState.UP);
    assertThat(entry.getArmorId()).isEqualTo(EXEC_B);
    assertThat(entry.getNode()).isEqualTo("node-b");
    assertThat(entry.getPid()).isEqualTo(202);
    assertThat(lookup(SERVICE).getDataHost()).isEqualTo("10.0.0.2");
  }

  // ---- unregister --------------------------------------------------------------------------------

  @Test
  void unregister_byHolder_removesTheEntry() {
    register(SERVICE, EXEC_A, "node-a", 101);

    FakeElementContext context = unregister(SERVICE, EXEC_A);

    assertThat(context.error()).isNull();
    assertThat(lookup(SERVICE).getFound()).isFalse();
    assertThat(store.contents).isEmpty();
  }

  @Test
  void unregister_byAnotherArmor_failsNamingTheHolder() {
    register(SERVICE, EXEC_A, "node-a", 101);

    FakeElementContext context = unregister(SERVICE, EXEC_B);

    assertThat(context.error()).isEqualTo("service address " + SERVICE + " is served by ARMOR " + EXEC_A + ", not by " + EXEC_B);
    assertThat(lookup(SERVICE).getFound()).isTrue();
  }

  @Test
  void aDaemonRegistersAndUnregistersOnlyItsOwnNodesServices() {
    FakeElementContext forged = new FakeElementContext(ArmorIds.FTM, nowMillis).from(ArmorIds.daemon("node-b"));
    db.handle(Ops.of(Ops.REGISTER_SERVICE,
        RegisterService.newBuilder().setService(SERVICE).setArmorId(EXEC_A).setNode("node-a").setPid(101).build()), forged);
    assertThat(forged.error()).isEqualTo("node node-b's daemon may not register " + SERVICE + " for node node-a");
    assertThat(lookup(SERVICE).getFound()).isFalse();

    FakeElementContext own = new FakeElementContext(ArmorIds.FTM, nowMillis).from(ArmorIds.daemon("node-a"));
    db.handle(Ops.of(Ops.REGISTER_SERVICE,
        RegisterService.newBuilder().setService(SERVICE).setArmorId(EXEC_A).setNode("node-a").setPid(101).build()), own);
    assertThat(own.error()).isNull();

    FakeElementContext stolen = new FakeElementContext(ArmorIds.FTM, nowMillis).from(ArmorIds.daemon("node-b"));
    db.handle(Ops.of(Ops.UNREGISTER_SERVICE,
        UnregisterService.newBuilder().setService(SERVICE).setArmorId(EXEC_A).setReason("x").build()), stolen);
    assertThat(stolen.error())
        .isEqualTo("node node-b's daemon may not unregister " + SERVICE + ", which node node-a serves");
    assertThat(lookup(SERVICE).getFound()).isTrue();
  }

  @Test
  void unregister_unknownAddress_fails() {
    assertThat(unregister(SERVICE, EXEC_A).error()).isEqualTo("service address " + SERVICE + " is not registered");
  }

  // ---- the Store ---------------------------------------------------------------------------------

  @Test
  void everyChange_reachesTheStore() {
    List<Runnable> changes =
        List.of(
            () -> register(SERVICE, EXEC_A, "node-a", 101),
            () -> register("10.0.0.6:9090", EXEC_B, "node-b", 202),
            () -> interest(SERVICE, "node-c"),
            () -> processEvent(EXEC_A, ProcessEventKind.EXITED, 101),
            () -> register(SERVICE, EXEC_A, "node-a", 102),
            () -> processEvent(EXEC_A, ProcessEventKind.EXITED, 102),
            () -> processEvent(EXEC_A, ProcessEventKind.GAVE_UP, 102),
            () -> register(SERVICE, EXEC_B, "node-b", 203),
            () -> unregister("10.0.0.6:9090", EXEC_B),
            () -> processEvent(EXEC_B, ProcessEventKind.STOPPED, 203));

    for (Runnable change : changes) {
      int writesBefore = store.writes.size();
      change.run();
      assertThat(store.writes).hasSizeGreaterThan(writesBefore);
      assertThat(store.contents).isEqualTo(byService(db.entries()));
    }
    assertThat(store.contents).isEmpty();
  }

  @Test
  void tableRestoredFromStore_answersLookups_andRecognisesRecovery() {
    register(SERVICE, EXEC_A, "node-a", 101);
    interest(SERVICE, "node-c");
    processEvent(EXEC_A, ProcessEventKind.EXITED, 101);
    // The FTM moves: a new APP_SERVER_DB starts from what the Store holds.
    db = new AppServerDb(List.copyOf(store.contents.values()), store, nodes);

    assertThat(lookup(SERVICE).getEntry()).isEqualTo(store.contents.get(SERVICE));
    assertThat(lookup(SERVICE).getEntry().getState()).isEqualTo(ServiceState.RECOVERING);
    FakeElementContext context = register(SERVICE, EXEC_A, "node-b", 202);
    assertThat(context.payloadAs(RegisterServiceResult.class).getRecovery()).isTrue();
    assertThat(context.payloadAs(RegisterServiceResult.class).getIncarnation()).isEqualTo(2);
    assertThat(context.sent).extracting(Sent::to).containsExactly(ArmorIds.daemon("node-c"));
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** A Store that keeps what it was told, in the order it was told. */
  private static final class RecordingStore implements AppServerDb.Store {
    final Map<String, ServiceEntry> contents = new TreeMap<>();
    final List<String> writes = new ArrayList<>();

    @Override
    public void put(ServiceEntry entry) {
      contents.put(AppServerDb.keyOf(entry), entry);
      writes.add("put " + entry.getService() + " " + entry.getState());
    }

    @Override
    public void remove(String service) {
      contents.remove(service);
      writes.add("remove " + service);
    }
  }

  private FakeElementContext handle(String type, Message argument) {
    FakeElementContext context = new FakeElementContext(ArmorIds.FTM, nowMillis);
    db.handle(Ops.of(type, argument), context);
    return context;
  }

  private FakeElementContext register(String service, String armorId, String node, long pid) {
    return handle(
        Ops.REGISTER_SERVICE,
        RegisterService.newBuilder().setService(service).setArmorId(armorId).setNode(node).setPid(pid).build());
  }

  private FakeElementContext restore(String service, String armorId, String node, long pid) {
    FakeElementContext context = new FakeElementContext(ArmorIds.FTM, nowMillis);
    db.restore(RegisterService.newBuilder().setService(service).setArmorId(armorId).setNode(node).setPid(pid).build(),
        node, context);
    return context;
  }

  private FakeElementContext unregister(String service, String armorId) {
    return handle(
        Ops.UNREGISTER_SERVICE,
        UnregisterService.newBuilder().setService(service).setArmorId(armorId).setReason("operator").build());
  }

  private ServiceLocation lookup(String service) {
    return handle(Ops.LOOKUP_SERVICE, LookupService.newBuilder().setService(service).build())
        .payloadAs(ServiceLocation.class);
  }

  private void interest(String service, String node) {
    handle(Ops.CLIENT_INTEREST, ClientInterest.newBuilder().setService(service).setNode(node).build());
  }

  private FakeElementContext processEvent(String armorId, ProcessEventKind kind, long pid) {
    return handle(
        Ops.PROCESS_EVENT,
        ProcessEvent.newBuilder()
            .setArmorId(armorId)
            .setNode("node-a")
            .setKind(kind)
            .setPid(pid)
            .setDetail(kind + " pid " + pid)
            .build());
  }

  private ServiceEntry entry(String service) {
    return byService(db.entries()).get(service);
  }

  private static Map<String, ServiceEntry> byService(Collection<ServiceEntry> entries) {
    return entries.stream().collect(Collectors.toMap(ServiceEntry::getService, Function.identity()));
  }
}
