package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.ConnectionInfo.State;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RecordingListener;
import dev.armor.relay.testkit.TestConfigs;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link RelayConnection#transitionTo}: legal moves are published with the fake clock's time; others throw. */
class ConnectionStateTest {

  private final AtomicLong clock = new AtomicLong();
  private final RecordingListener events = new RecordingListener();
  private NettyRelay relay;

  @BeforeEach
  void start() {
    relay = NettyRelay.start(TestConfigs.defaults("t1", "127.0.0.1").withIoThreads(1), events, clock::get);
  }

  @AfterEach
  void stop() {
    relay.close();
  }

  @Test
  void shouldPublishLegalTransitionsAndRejectIllegalOnes() {
    TestConnection connection = new TestConnection(relay);
    clock.set(1_000_000_000L);
    connection.transitionTo(State.HELD, clock.get(), "server lost (link closed)");
    assertThat(connection.nanosInState(3_000_000_000L)).isEqualTo(2_000_000_000L);
    connection.transitionTo(State.ATTACHED, clock.get(), "to 127.0.0.3:1");
    connection.transitionTo(State.CLOSED, clock.get(), "closed normally by both apps");
    assertThat(events.events)
        .extracting(RecordingListener.Event::kind)
        .containsExactly("held", "attached", "closed");

    assertThatThrownBy(() -> connection.transitionTo(State.ATTACHED, clock.get(), "again"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CLOSED -> ATTACHED");
  }

  private static final class TestConnection extends RelayConnection {
    private static final Logger log = LoggerFactory.getLogger(TestConnection.class);

    TestConnection(NettyRelay relay) {
      super(
          relay,
          "t1-1",
          new ServiceAddress("127.0.0.2", 7000),
          new InetSocketAddress("127.0.0.1", 40000),
          Side.CLIENT,
          new EmbeddedChannel().eventLoop());
    }

    @Override
    Map<State, Set<State>> legalTransitions() {
      return Map.of(
          State.CONNECTING, EnumSet.of(State.HELD),
          State.HELD, EnumSet.of(State.ATTACHED),
          State.ATTACHED, EnumSet.of(State.CLOSED));
    }

    @Override
    Logger log() {
      return log;
    }

    @Override
    boolean isRoutineAttach() {
      return false;
    }

    @Override
    void shutdown() {}
  }
}
