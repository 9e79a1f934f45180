package dev.armor.ftm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.RegisterService;
import dev.armor.elements.wire.RegisterServiceResult;
import dev.armor.execution.process.ArmorChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The FTM channel's listening end, with a stand-in FTM actor and a daemon's end made of a plain ArmorChannel. */
class FtmChannelServerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  private final TestProbe<ArmorMessage> delivered = testKit.createTestProbe();
  private FtmChannelServer server;

  @AfterEach
  void closeServer() {
    if (server != null) {
      server.close();
    }
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void registration_reachesTheFtm_andItsAnswerComesBackToTheRequest() throws Exception {
    ArmorChannel daemon = connect(startServer(true), new Closed());
    ArmorMessage request = registration("127.0.0.2:7000");

    ArmorMessage answer = ask(daemon, request);

    assertThat(delivered.receiveMessage().getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(answer.getError()).isEmpty();
    assertThat(answer.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(Ops.unpack(answer.getPayload(), RegisterServiceResult.class).getIncarnation()).isEqualTo(7);
  }

  @Test
  void requestTheChannelDoesNotCarry_isAnsweredWithAnErrorSayingWhatItCarries_andNeverReachesTheFtm() throws Exception {
    ArmorChannel daemon = connect(startServer(true), new Closed());
    ArmorMessage lookup = Armors.message("daemon@n1", "ftm", Ops.LOOKUP_SERVICE,
        LookupService.newBuilder().setService("127.0.0.2:7000").build());

    ArmorMessage answer = ask(daemon, lookup);

    assertThat(answer.getError()).contains("carries only").contains(Ops.REGISTER_SERVICE);
    assertThat(answer.getCorrelationId()).isEqualTo(lookup.getCorrelationId());
    delivered.expectNoMessage();
  }

  @Test
  void peerThatIsNoClusterMember_isClosed() throws Exception {
    Closed closed = new Closed();
    connect(startServer(false), closed);

    assertThat(closed.reason.get(10, TimeUnit.SECONDS)).isNotEmpty();
    delivered.expectNoMessage();
  }

  @Test
  void carries_onlyOneRegistrationOrUnregistrationAddressedToTheFtm() {
    assertThat(FtmChannelServer.carries(registration("127.0.0.2:7000"))).isTrue();
    assertThat(FtmChannelServer.carries(Armors.message("daemon@n1", "ftm", Ops.UNREGISTER_SERVICE,
        dev.armor.elements.wire.UnregisterService.newBuilder().setService("127.0.0.2:7000").build()))).isTrue();
    assertThat(FtmChannelServer.carries(Armors.message("daemon@n1", "ftm", Ops.LOOKUP_SERVICE,
        LookupService.newBuilder().setService("127.0.0.2:7000").build()))).isFalse();
    assertThat(FtmChannelServer.carries(registration("127.0.0.2:7000").toBuilder().setTo("daemon@n2").build())).isFalse();
    ArmorMessage two = registration("127.0.0.2:7000");
    two = two.toBuilder().addBundles(two.getBundles(0)).build();
    assertThat(FtmChannelServer.carries(two)).isFalse();
  }

  /** A stand-in FTM that records each message and answers a registration with incarnation 7. */
  private String startServer(boolean members) throws IOException {
    ActorRef<ArmorActor.Command> ftm = testKit.spawn(Behaviors.receive(ArmorActor.Command.class)
        .onMessage(ArmorActor.Deliver.class, deliver -> {
          delivered.ref().tell(deliver.message());
          deliver.replyTo().tell(ArmorMessage.newBuilder().setFrom("ftm").setTo(deliver.message().getFrom())
              .setCorrelationId(deliver.message().getCorrelationId())
              .setPayload(com.google.protobuf.Any.pack(RegisterServiceResult.newBuilder().setIncarnation(7).build()))
              .build());
          return Behaviors.same();
        })
        .build());
    server = FtmChannelServer.bind("127.0.0.1");
    server.start(ftm, testKit.system().scheduler(), address -> members);
    return server.address();
  }

  private static ArmorChannel connect(String address, Closed closed) throws IOException {
    int colon = address.lastIndexOf(':');
    SocketChannel socket = SocketChannel.open(
        new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))));
    return ArmorChannel.open(socket, "test daemon end", closed);
  }

  private static ArmorMessage ask(ArmorChannel channel, ArmorMessage request) throws Exception {
    CompletableFuture<ArmorMessage> answer = new CompletableFuture<>();
    assertThat(channel.request(request, answer::complete)).isTrue();
    return answer.get(10, TimeUnit.SECONDS);
  }

  private static ArmorMessage registration(String service) {
    return Armors.message("daemon@n1", "ftm", Ops.REGISTER_SERVICE,
        RegisterService.newBuilder().setService(service).setArmorId("daemon@n1").setNode("n1").setPid(42).build());
  }

  /** The daemon end's handler: records why the channel closed. */
  private static final class Closed implements ArmorChannel.Handler {
    final CompletableFuture<String> reason = new CompletableFuture<>();

    @Override
    public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {}

    @Override
    public void closed(ArmorChannel channel, String why) {
      reason.complete(why);
    }
  }
}
