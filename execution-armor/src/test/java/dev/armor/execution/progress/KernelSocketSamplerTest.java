package dev.armor.execution.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.elements.wire.AppSocket;
import dev.armor.elements.wire.AppSockets;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sampler's readers on kernel output as this machine writes it, and a sample of this very JVM's sockets. */
class KernelSocketSamplerTest {

  private static final String SS_OUTPUT = """
      ESTAB 3      0      [::ffff:127.0.0.1]:46015 [::ffff:127.0.0.1]:35152 ino:4397 sk:5 cgroup:/ <->
      \t ts sack bbr wscale:10,10 rto:200 rtt:0.031/0.015 ato:40 mss:32768 bytes_sent:10 bytes_acked:10 bytes_received:5 segs_out:1 lastsnd:1516 lastrcv:1520 lastack:8 app_limited
      ESTAB 0      0      127.0.0.1:46015 127.0.0.1:35999 ino:9999 sk:6 cgroup:/ <->
      \t ts sack bbr bytes_received:7 lastsnd:1 lastrcv:1 lastack:1
      CLOSE-WAIT 0 0 127.0.0.1:46015 127.0.0.1:36000 ino:4400 sk:7 cgroup:/ <->
      \t ts sack bbr bytes_received:7 lastsnd:30 lastrcv:20 lastack:20
      """;

  @Test
  void connections_areReadFromSsOutput_keepingOnlyTheProcesssOwn() {
    List<AppSocket> connections = KernelSocketSampler.connections(SS_OUTPUT, Set.of(4397L, 4400L));

    assertThat(connections).containsExactly(
        AppSocket.newBuilder().setInode(4397).setState("ESTAB").setLocalPort(46015)
            .setPeer("[::ffff:127.0.0.1]:35152").setReceiveQueue(3).setSendQueue(0).setBytesReceived(5)
            .setBytesAcked(10).setLastSendMillis(1516).setLastReceiveMillis(1520).build(),
        AppSocket.newBuilder().setInode(4400).setState("CLOSE-WAIT").setLocalPort(46015)
            .setPeer("127.0.0.1:36000").setBytesReceived(7).setLastSendMillis(30).setLastReceiveMillis(20).build());
  }

  @Test
  void connections_ofGarbledOutput_areNone() {
    assertThat(KernelSocketSampler.connections("\tbytes_received:5\nnonsense\n\n", Set.of(0L))).isEmpty();
  }

  @Test
  void listeners_areReadFromProcNetTcp_withTheirAcceptQueues() {
    List<String> lines = List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1087 1 0 100 0 0 10 0",
        "   1: 0100007F:CBA1 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 4395 2 0 100 0 0 10 0",
        "   2: 0100007F:D1F2 0100007F:CBA1 01 00000000:0000000A 00:00000000 00000000     0        0 4396 1 0 20 4 30 11 -1");

    assertThat(KernelSocketSampler.listeners(lines, Set.of(4395L, 4396L))).containsExactly(
        AppSocket.newBuilder().setInode(4395).setListening(true).setState("LISTEN").setLocalPort(0xCBA1)
            .setReceiveQueue(2).build());
  }

  @Test
  void aSampleOfThisJvm_showsItsListenerItsAcceptQueueAndTheInputItHasNotRead() throws Exception {
    KernelSocketSampler sampler = new KernelSocketSampler();
    assertThat(sampler.unavailable()).isEmpty();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket client = new Socket()) {
      int port = server.getLocalPort();
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      try (Socket accepted = server.accept(); Socket waiting = new Socket()) {
        OutputStream out = client.getOutputStream();
        out.write(new byte[] {1, 2, 3, 4, 5});
        out.flush();
        InputStream in = accepted.getInputStream();
        assertThat(in.read()).isEqualTo(1); // read one of five
        waiting.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)); // never accepted

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
          AppSockets sample = sampler.sample(ProcessHandle.current().pid()).toCompletableFuture().join();
          assertThat(sample.getError()).isEmpty();
          assertThat(sample.getSocketsList()).anySatisfy(listener -> {
            assertThat(listener.getListening()).isTrue();
            assertThat(listener.getLocalPort()).isEqualTo(port);
            assertThat(listener.getReceiveQueue()).isEqualTo(1);
          });
          assertThat(sample.getSocketsList()).filteredOn(socket -> !socket.getListening()).singleElement()
              .satisfies(connection -> {
                assertThat(connection.getLocalPort()).isEqualTo(port);
                assertThat(connection.getPeer()).endsWith(":" + client.getLocalPort());
                assertThat(connection.getBytesReceived()).isEqualTo(5);
                assertThat(connection.getReceiveQueue()).isEqualTo(4);
              });
        });
      }
    }
  }

  @Test
  void aSampleOfAProcessThatIsGone_isEmpty() {
    AppSockets sample = new KernelSocketSampler().sample(Long.MAX_VALUE - 1).toCompletableFuture().join();

    assertThat(sample.getSocketsList()).isEmpty();
  }
}
