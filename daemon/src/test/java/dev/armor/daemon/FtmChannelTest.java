package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.LookupService;
import dev.armor.elements.wire.RegisterService;
import dev.armor.ftm.FtmChannelServer;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon's end of the FTM channel and the gateway's routing over it: a registration or unregistration goes over the
 * channel while it is open and through the cluster (the proxy) otherwise; one the channel loses is sent again through the cluster; the
 * daemon follows the FTM to the address it advertises. Real TCP on 127.0.0.1, a stand-in FTM actor.
 */
class FtmChannelTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  private final TestProbe<ArmorActor.Command> proxy = testKit.createTestProbe();
  private final TestProbe<ArmorMessage> replies = testKit.createTestProbe();
  private final FtmChannel channel = new FtmChannel("n1", "127.0.0.1", dev.armor.security.TestPki.nodeTls("n1"));
  private final DaemonRouter router = new DaemonRouter(proxy.ref(), channel, Duration.ofSeconds(30));
  private final java.util.List<FtmChannelServer> servers = new java.util.ArrayList<>();

  @AfterEach
  void close() {
    channel.close();
    servers.forEach(FtmChannelServer::close);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * Issue 20: the FTM channel's port is ephemeral, so a connect to a channel that is gone can draw that port and
   * connect the socket to itself. Forced by connecting from the very address: refused, not taken for a channel.
   */
  @Test
  void aConnectThatMeetsItsOwnSocketIsRefused() throws Exception {
    InetSocketAddress nobody;
    try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      nobody = (InetSocketAddress) gone.getLocalSocketAddress();
    }

    assertThatThrownBy(() -> FtmChannel.dial(nobody, nobody, 2000))
        .isInstanceOf(ConnectException.class)
        .hasMessage("Connection refused: " + nobody + " (the connect met its own socket: nobody listens there)");
  }

  @Test
  void beforeTheFtmSaysWhereItsChannelIs_aRegistrationGoesThroughTheCluster() {
    ArmorMessage registration = registration();

    assertThat(router.route(registration, replies.ref())).isTrue();

    ArmorActor.Deliver sent = proxy.expectMessageClass(ArmorActor.Deliver.class);
    assertThat(sent.message()).isEqualTo(registration);
    assertThat(sent.replyTo()).isEqualTo(replies.ref());
  }

  @Test
  void withTheChannelOpen_aRegistrationGoesOverIt_andOtherMessagesStillGoThroughTheCluster() throws Exception {
    channel.advertised(startServer(answering()));
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);

    assertThat(router.route(registration(), replies.ref())).isTrue();
    assertThat(replies.receiveMessage().getFrom()).isEqualTo("ftm");
    proxy.expectNoMessage();

    ArmorMessage lookup = Armors.message("daemon@n1", "ftm", Ops.LOOKUP_SERVICE,
        LookupService.newBuilder().setService("127.0.0.2:7000").build());
    assertThat(router.route(lookup, replies.ref())).isTrue();
    assertThat(proxy.expectMessageClass(ArmorActor.Deliver.class).message()).isEqualTo(lookup);
  }

  @Test
  void withTheChannelOpen_anUnregistrationGoesOverItToo() throws Exception {
    channel.advertised(startServer(answering()));
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);

    assertThat(router.route(unregistration(), replies.ref())).isTrue();

    assertThat(replies.receiveMessage().getFrom()).isEqualTo("ftm");
    proxy.expectNoMessage();
  }

  @Test
  void anUnregistrationAnFtmOfAnEarlierVersionRefusesOnItsChannel_isSentThroughTheCluster() throws Exception {
    // What an FTM that carried registrations only answers an unregistration on its channel.
    channel.advertised(startServer(testKit.spawn(Behaviors.receive(ArmorActor.Command.class)
        .onMessage(ArmorActor.Deliver.class, deliver -> {
          deliver.replyTo().tell(ArmorMessage.newBuilder().setFrom("ftm").setTo(deliver.message().getFrom())
              .setCorrelationId(deliver.message().getCorrelationId())
              .setError("the FTM channel carries only requests to the FTM of [app_server_db.register]; send this "
                  + "through the cluster").build());
          return Behaviors.same();
        })
        .build())));
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);
    ArmorMessage unregistration = unregistration();

    assertThat(router.route(unregistration, replies.ref())).isTrue();

    ArmorActor.Deliver resent = proxy.expectMessageClass(ArmorActor.Deliver.class, Duration.ofSeconds(10));
    assertThat(resent.message()).isEqualTo(unregistration);
    assertThat(resent.replyTo()).isEqualTo(replies.ref());
    replies.expectNoMessage();
  }

  @Test
  void aRegistrationTheChannelLoses_isSentAgainThroughTheCluster() throws Exception {
    FtmChannelServer silent = serverFor(testKit.spawn(Behaviors.ignore()));
    channel.advertised(silent.address());
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);
    ArmorMessage registration = registration();

    assertThat(router.route(registration, replies.ref())).isTrue();
    silent.close(); // the FTM's node went away before answering

    ArmorActor.Deliver resent = proxy.expectMessageClass(ArmorActor.Deliver.class, java.time.Duration.ofSeconds(10));
    assertThat(resent.message()).isEqualTo(registration);
    assertThat(resent.replyTo()).isEqualTo(replies.ref());
  }

  @Test
  void aRegistrationTheChannelLosesAfterItsAskerGaveUp_isNotSentAgain() throws Exception {
    DaemonRouter impatient = new DaemonRouter(proxy.ref(), channel, Duration.ofMillis(1));
    FtmChannelServer silent = serverFor(testKit.spawn(Behaviors.ignore()));
    channel.advertised(silent.address());
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);

    assertThat(impatient.route(registration(), replies.ref())).isTrue();
    Thread.sleep(50); // longer than the asker waits: a real wait, the router reads the clock
    silent.close();

    await().atMost(Duration.ofSeconds(10)).until(() -> !channel.isOpen());
    proxy.expectNoMessage();
  }

  @Test
  void whenTheFtmMoves_theChannelFollowsIt_andANodeWithoutAChannelMeansTheCluster() throws Exception {
    channel.advertised(startServer(answering()));
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);
    FtmChannelServer moved = serverFor(answering());

    channel.advertised(moved.address());
    await().atMost(Duration.ofSeconds(10)).until(channel::isOpen);
    CompletableFuture<ArmorMessage> answer = new CompletableFuture<>();
    assertThat(channel.request(registration(), answer::complete,
        reason -> answer.completeExceptionally(new AssertionError(reason)))).isTrue();
    assertThat(answer.get(10, TimeUnit.SECONDS).getFrom()).isEqualTo("ftm");

    channel.advertised("");
    assertThat(channel.isOpen()).isFalse();
    assertThat(channel.request(registration(), answer::complete, reason -> { })).isFalse();
  }

  private ActorRef<ArmorActor.Command> answering() {
    return testKit.spawn(Behaviors.receive(ArmorActor.Command.class)
        .onMessage(ArmorActor.Deliver.class, deliver -> {
          deliver.replyTo().tell(ArmorMessage.newBuilder().setFrom("ftm").setTo(deliver.message().getFrom())
              .setCorrelationId(deliver.message().getCorrelationId()).build());
          return Behaviors.same();
        })
        .build());
  }

  private String startServer(ActorRef<ArmorActor.Command> ftm) throws Exception {
    return serverFor(ftm).address();
  }

  private FtmChannelServer serverFor(ActorRef<ArmorActor.Command> ftm) throws Exception {
    FtmChannelServer server = FtmChannelServer.bind("127.0.0.1", dev.armor.security.TestPki.node("ftm"));
    server.start(ftm, testKit.system().scheduler());
    servers.add(server);
    return server;
  }

  private static ArmorMessage unregistration() {
    return Armors.message("daemon@n1", "ftm", Ops.UNREGISTER_SERVICE, dev.armor.elements.wire.UnregisterService.newBuilder()
        .setService("127.0.0.2:7000").setArmorId("daemon@n1").setReason("pid 42 closed its listener").build());
  }

  private static ArmorMessage registration() {
    return Armors.message("daemon@n1", "ftm", Ops.REGISTER_SERVICE,
        RegisterService.newBuilder().setService("127.0.0.2:7000").setArmorId("daemon@n1").setNode("n1").setPid(42).build());
  }
}
