package dev.armor.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.execution.process.ArmorChannel;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The daemon's socket for ARMOR processes: identification first, one bad channel does not disturb the others. */
class ArmorChannelServerTest {

  /** What the daemon side saw, as strings. */
  static final class Events implements ArmorChannelServer.Listener {
    final BlockingQueue<String> seen = new LinkedBlockingQueue<>();

    @Override
    public void hello(ArmorChannel channel, String armorId, long pid) {
      seen.add("hello " + armorId + " " + pid);
    }

    @Override
    public void received(String armorId, ArmorMessage message, Consumer<ArmorMessage> reply) {
      seen.add("received from " + armorId + ": " + message.getBundles(0).getOperations(0).getType());
    }

    @Override
    public void closed(ArmorChannel channel, String armorId, String reason) {
      seen.add("closed " + armorId + ": " + reason);
    }
  }

  private static SocketChannel connect(Path socket) throws Exception {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.connect(UnixDomainSocketAddress.of(socket));
    return channel;
  }

  private static ArmorMessage event() {
    return Armors.message("exec-n1-1", "ftm", Ops.PROCESS_EVENT, ProcessEvent.getDefaultInstance());
  }

  @Test
  void armorProcessIsIdentifiedByItsHello_aChannelThatSpeaksFirstIsClosedAlone() throws Exception {
    Path directory = Files.createTempDirectory("armor-channel-server-");
    Path socket = directory.resolve("armors.sock");
    Events events = new Events();
    try (ArmorChannelServer server = ArmorChannelServer.start(socket, events)) {
      ArmorChannel good = ArmorChannel.open(connect(socket), "good", new Ignore());
      good.hello("exec-n1-1", 4242);
      assertThat(events.seen.poll(5, TimeUnit.SECONDS)).isEqualTo("hello exec-n1-1 4242");

      SocketChannel rude = connect(socket);
      ArmorChannel rudeChannel = ArmorChannel.open(rude, "rude", new Ignore());
      rudeChannel.send(event()); // before any HELLO
      assertThat(events.seen.poll(5, TimeUnit.SECONDS)).isEqualTo("closed null: a message before the HELLO");

      good.send(event());
      assertThat(events.seen.poll(5, TimeUnit.SECONDS)).isEqualTo("received from exec-n1-1: " + Ops.PROCESS_EVENT);

      SocketChannel garbage = connect(socket);
      garbage.write(ByteBuffer.wrap(new byte[] {0x7f, 0, 0, 0, 1}));
      assertThat(events.seen.poll(5, TimeUnit.SECONDS)).startsWith("closed null: malformed frame: length 2130706432");
      good.send(event());
      assertThat(events.seen.poll(5, TimeUnit.SECONDS)).as("the identified channel goes on")
          .isEqualTo("received from exec-n1-1: " + Ops.PROCESS_EVENT);
    }
    assertThat(events.seen.poll(5, TimeUnit.SECONDS)).isEqualTo("closed exec-n1-1: the daemon is stopping");
    assertThat(Files.exists(socket)).as("the socket file is removed").isFalse();
    Files.deleteIfExists(directory);
  }

  @Test
  void executionArmorSettings_badValuesNameTheSetting() {
    assertThatThrownBy(() -> DaemonSettings.ExecutionArmors.Mode.parse("thread"))
        .hasMessage("execution-armors must be in-daemon or process, but was 'thread'");
    assertThatThrownBy(() -> new DaemonSettings.ExecutionArmors(DaemonSettings.ExecutionArmors.Mode.PROCESS,
        Duration.ZERO, Duration.ofSeconds(5))).hasMessage("armor-heartbeat must be positive, but was PT0S");
    assertThatThrownBy(() -> new DaemonSettings.ExecutionArmors(DaemonSettings.ExecutionArmors.Mode.PROCESS,
        Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessage("armor-heartbeat-timeout must be longer than armor-heartbeat (PT2S), but was PT1S");
    assertThat(DaemonSettings.ExecutionArmors.DEFAULTS.mode()).isEqualTo(DaemonSettings.ExecutionArmors.Mode.IN_DAEMON);
  }

  /** An ARMOR-process end that ignores what it gets. */
  static final class Ignore implements ArmorChannel.Handler {
    @Override
    public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {}

    @Override
    public void closed(ArmorChannel channel, String reason) {}
  }
}
