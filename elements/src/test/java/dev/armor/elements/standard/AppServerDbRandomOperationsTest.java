package dev.armor.elements.standard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.ArmorIds;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ClientInterest;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessEventKind;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceLocation;
import dev.armor.elements.wire.ServiceState;
import dev.armor.elements.wire.UnregisterService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * APP_SERVER_DB under random sequences of the operations it handles, over a few addresses, ARMORs and pids, so
 * that the interleavings the hand-written tests do not think of come up. Each seed is a fixed sequence: a
 * failure names its seed and step, and re-runs the same.
 */
class AppServerDbRandomOperationsTest {

  private static final List<String> SERVICES = List.of("10.0.0.5:8080", "10.0.0.6:9090");
  private static final List<String> ARMORS = List.of("exec-node-a-1", "exec-node-b-1", "exec-node-c-1");
  private static final List<String> NODES = List.of("node-a", "node-b", "node-c");
  private static final int STEPS = 300;

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 42, 1234, 98765})
  void randomOperations_keepTheStoreInStep_andTheRegistrationRules(long seed) {
    Random random = new Random(seed);
    Map<String, ServiceEntry> stored = new TreeMap<>();
    AppServerDb.Store store =
        new AppServerDb.Store() {
          @Override
          public void put(ServiceEntry entry) {
            stored.put(entry.getService(), entry);
          }

          @Override
          public void remove(String service) {
            stored.remove(service);
          }
        };
    AppServerDb db = new AppServerDb(List.of(), store, node -> Optional.empty());

    for (int step = 0; step < STEPS; step++) {
      String service = pick(random, SERVICES);
      String armor = pick(random, ARMORS);
      long pid = 100 + random.nextInt(4);
      String where = "seed " + seed + ", step " + step;
      ServiceEntry before = table(db).get(service);
      FakeElementContext context = new FakeElementContext(ArmorIds.FTM, step);

      switch (random.nextInt(6)) {
        case 0, 1 -> {
          db.handle(
              Ops.of(
                  Ops.REGISTER_SERVICE,
                  RegisterService.newBuilder().setService(service).setArmorId(armor).setNode(pick(random, NODES)).setPid(pid).build()),
              context);
          boolean mayRegister = before == null || before.getState() == ServiceState.FAILED || before.getArmorId().equals(armor);
          assertThat(context.error()).as(where + ": register refused iff another ARMOR holds it").matches(e -> (e == null) == mayRegister);
          ServiceEntry after = table(db).get(service);
          if (mayRegister) {
            assertThat(after.getState()).as(where).isEqualTo(ServiceState.UP);
            assertThat(after.getArmorId()).as(where).isEqualTo(armor);
            assertThat(after.getPid()).as(where).isEqualTo(pid);
            assertThat(after.getIncarnation()).as(where + ": incarnation").isEqualTo(before == null ? 1 : before.getIncarnation() + 1);
          } else {
            assertThat(after).as(where + ": a refused registration changes nothing").isEqualTo(before);
          }
        }
        case 2 -> db.handle(
            Ops.of(Ops.CLIENT_INTEREST, ClientInterest.newBuilder().setService(service).setNode(pick(random, NODES)).build()),
            context);
        case 3 -> {
          ProcessEventKind kind = pick(random, List.of(ProcessEventKind.EXITED, ProcessEventKind.GAVE_UP, ProcessEventKind.STOPPED));
          db.handle(
              Ops.of(Ops.PROCESS_EVENT, ProcessEvent.newBuilder().setArmorId(armor).setKind(kind).setPid(pid).setDetail(kind.name()).build()),
              context);
          if (before != null && before.getArmorId().equals(armor) && kind == ProcessEventKind.EXITED
              && before.getState() == ServiceState.UP && before.getPid() == pid) {
            assertThat(table(db).get(service).getState()).as(where).isEqualTo(ServiceState.RECOVERING);
          }
        }
        case 4 -> db.handle(
            Ops.of(Ops.UNREGISTER_SERVICE, UnregisterService.newBuilder().setService(service).setArmorId(armor).build()),
            context);
        default -> {
          db.handle(Ops.of(Ops.LOOKUP_SERVICE, LookupService.newBuilder().setService(service).build()), context);
          ServiceLocation location = context.payloadAs(ServiceLocation.class);
          assertThat(location.getFound()).as(where + ": lookup").isEqualTo(before != null);
          if (before != null) {
            assertThat(location.getEntry()).as(where + ": lookup").isEqualTo(before);
          }
        }
      }

      assertThat(stored).as(where + ": the Store holds the table").isEqualTo(table(db));
      for (FakeElementContext.Sent sent : context.sent) {
        assertThat(ArmorIds.isDaemon(sent.to())).as(where + ": clients are told through their daemons").isTrue();
      }
    }
  }

  private static Map<String, ServiceEntry> table(AppServerDb db) {
    Map<String, ServiceEntry> table = new HashMap<>();
    db.entries().forEach(entry -> table.put(entry.getService(), entry));
    return table;
  }

  private static <T> T pick(Random random, List<T> choices) {
    return choices.get(random.nextInt(choices.size()));
  }
}
