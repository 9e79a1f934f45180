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
import dev.armor.security.TestPki;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLSocket;
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
    ArmorChannel daemon = connect(startServer(), "n1", new Closed());
    ArmorMessage request = registration("127.0.0.2:7000");

    ArmorMessage answer = ask(daemon, request);

    assertThat(delivered.receiveMessage().getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(answer.getError()).isEmpty();
    assertThat(answer.getCorrelationId()).isEqualTo(request.getCorrelationId());
    assertThat(Ops.unpack(answer.getPayload(), RegisterServiceResult.class).getIncarnation()).isEqualTo(7);
  }

  @Test
  void requestTheChannelDoesNotCarry_isAnsweredWithAnErrorSayingWhatItCarries_andNeverReachesTheFtm() throws Exception {
    ArmorChannel daemon = connect(startServer(), "n1", new Closed());
    ArmorMessage lookup = Armors.message("daemon@n1", "ftm", Ops.LOOKUP_SERVICE,
        LookupService.newBuilder().setService("127.0.0.2:7000").build());

    ArmorMessage answer = ask(daemon, lookup);

    assertThat(answer.getError()).contains("carries only").contains(Ops.REGISTER_SERVICE);
    assertThat(answer.getCorrelationId()).isEqualTo(lookup.getCorrelationId());
    delivered.expectNoMessage();
  }

  @Test
  void peerWithoutANodeCertificate_isClosedBeforeAnythingIsRead() throws Exception {
    String address = startServer();
    int colon = address.lastIndexOf(':');
    Closed closed = new Closed();
    ArmorChannel plain = ArmorChannel.open(SocketChannel.open(
        new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))), "plain", closed);
    plain.request(registration("127.0.0.2:7000"), reply -> {});

    assertThat(closed.reason.get(10, TimeUnit.SECONDS)).isNotEmpty();
    delivered.expectNoMessage();
  }

  @Test
  void aNodeSendingAsAnotherNodesDaemon_isAnsweredWithAnError_andNeverReachesTheFtm() throws Exception {
    ArmorChannel n2 = connect(startServer(), "n2", new Closed());

    ArmorMessage answer = ask(n2, registration("127.0.0.2:7000"));

    assertThat(answer.getError()).contains("takes requests from daemon@n2 only");
    delivered.expectNoMessage();
  }

  @Test
  void aNodeOpeningMoreChannelsThanItsDaemonNeeds_losesItsOldest_andItsNewestStillServes() throws Exception {
    String address = startServer();
    List<Closed> ends = new ArrayList<>();
    List<ArmorChannel> channels = new ArrayList<>();
    for (int i = 0; i <= FtmChannelServer.MAX_CHANNELS_PER_NODE; i++) {
      Closed closed = new Closed();
      ArmorChannel channel = connect(address, "n1", closed);
      ask(channel, registration("127.0.0.2:" + (7000 + i))); // served: the server has taken it as n1's
      delivered.receiveMessage();
      ends.add(closed);
      channels.add(channel);
    }

    assertThat(ends.get(0).reason.get(10, TimeUnit.SECONDS)).isNotEmpty();
    for (int i = 1; i < ends.size(); i++) {
      assertThat(ends.get(i).reason).isNotDone();
    }
    ArmorChannel newest = channels.get(channels.size() - 1);
    assertThat(ask(newest, registration("127.0.0.2:7100")).getError()).isEmpty();
    ArmorChannel otherNode = connect(address, "n2", new Closed());
    assertThat(ask(otherNode, registration("127.0.0.2:7101").toBuilder().setFrom("daemon@n2").build()).getError())
        .isEmpty();
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
  private String startServer() throws IOException {
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
    server = FtmChannelServer.bind("127.0.0.1", TestPki.node("ftm"));
    server.start(ftm, testKit.system().scheduler());
    return server.address();
  }

  /** A daemon's end as node {@code node}: mutual TLS with its certificate, as the daemon's FtmChannel connects. */
  private static ArmorChannel connect(String address, String node, Closed closed) throws IOException {
    int colon = address.lastIndexOf(':');
    SSLSocket socket = (SSLSocket) TestPki.nodeTls(node).getSocketFactory()
        .createSocket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    socket.startHandshake();
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
