package dev.armor.elements.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.Armors;
import dev.armor.elements.LogCapture;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What crosses between JVMs survives the trip, and what should not be read is refused. */
@ExtendWith(LogCapture.class)
class ArmorSerializerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ExtendedActorSystem system = (ExtendedActorSystem) Adapter.toClassic(testKit.system());

  /** Bytes that are no protobuf message: field 1, length 5, then one byte. */
  private static final byte[] CORRUPT = {0x0A, 0x05, 0x01};

  private final ArmorSerializer serializer = new ArmorSerializer(system);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void deliverWithReplyTo_survivesTheRoundTrip_withAWorkingReplyTo() throws Exception {
    TestProbe<ArmorMessage> requester = testKit.createTestProbe();
    ArmorActor.Deliver deliver = new ArmorActor.Deliver(message(), requester.ref());

    ArmorActor.Deliver back = (ArmorActor.Deliver) roundTrip(deliver);

    assertThat(back).isEqualTo(deliver);
    back.replyTo().tell(message());
    assertThat(requester.receiveMessage()).isEqualTo(message());
  }

  @Test
  void deliverWithoutReplyTo_survivesTheRoundTrip() throws Exception {
    ArmorActor.Deliver deliver = new ArmorActor.Deliver(message(), null);

    assertThat(roundTrip(deliver)).isEqualTo(deliver);
  }

  @Test
  void armorMessage_survivesTheRoundTrip() throws Exception {
    ArmorMessage reply = message().toBuilder().setError("something went wrong").build();

    assertThat(roundTrip(reply)).isEqualTo(reply);
  }

  @Test
  void serviceEntry_survivesTheRoundTrip() throws Exception {
    ServiceEntry entry =
        ServiceEntry.newBuilder()
            .setService("10.0.0.5:8080")
            .setArmorId("exec-node-a-1")
            .setNode("node-a")
            .setState(ServiceState.RECOVERING)
            .setIncarnation(3)
            .setPid(4242)
            .setChangedAtMillis(1_700_000_000_000L)
            .setReason("EXITED pid 4241")
            .addClientNodes("node-b")
            .addClientNodes("node-c")
            .build();

    assertThat(roundTrip(entry)).isEqualTo(entry);
  }

  @Test
  void configuredBindings_sendArmorMessagesThroughThisSerializer() {
    var serialization = SerializationExtension.get(system);

    assertThat(serialization.findSerializerFor(new ArmorActor.Deliver(message(), null))).isInstanceOf(ArmorSerializer.class);
    assertThat(serialization.findSerializerFor(message())).isInstanceOf(ArmorSerializer.class);
    assertThat(serialization.findSerializerFor(ServiceEntry.getDefaultInstance())).isInstanceOf(ArmorSerializer.class);
  }

  @Test
  void corruptDeliver_isNotSerializable() {
    String manifest = serializer.manifest(new ArmorActor.Deliver(message(), null));

    assertThatThrownBy(() -> serializer.fromBinary(CORRUPT, manifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("malformed");
  }

  @Test
  void corruptArmorMessage_isNotSerializable_andSaysItIsMalformed() {
    String manifest = serializer.manifest(message());

    assertThatThrownBy(() -> serializer.fromBinary(CORRUPT, manifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageStartingWith("malformed " + ArmorMessage.class.getName());
  }

  @ParameterizedTest
  @ValueSource(strings = {"java.lang.Runtime", "com.google.protobuf.StringValue", "dev.armorx.Evil",
      "dev.armor.elements.ArmorActor", "dev.armor.elements.wire.Armor"})
  void manifestOutsideTheWirePackages_orNotAMessage_isRefused(String manifest) {
    assertThatThrownBy(() -> serializer.fromBinary(new byte[0], manifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining(manifest);
  }

  @Test
  void unknownManifestInsideDevArmor_isNotSerializable() {
    String manifest = "dev.armor.elements.wire.NoSuchMessage";

    assertThatThrownBy(() -> serializer.fromBinary(new byte[0], manifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining(manifest);
  }

  private Object roundTrip(Object o) throws NotSerializableException {
    return serializer.fromBinary(serializer.toBinary(o), serializer.manifest(o));
  }

  private static ArmorMessage message() {
    return Armors.message("daemon@node-a", "ftm", "app_server_db.lookup", StringValue.of("10.0.0.5:8080")).toBuilder()
        .setCorrelationId(42)
        .setPayload(Any.pack(StringValue.of("payload")))
        .build();
  }
}
