package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** What the daemon next to a server app concludes from the bytes it wrote to it and the app's output. */
class UnansweredInputTest {

  private final EmbeddedChannel app = new EmbeddedChannel();
  private final UnansweredInput input = new UnansweredInput();

  private static final long HELD = UnansweredInput.HELD_FLOOR_NANOS;

  @Test
  void inputWrittenAfterTheAppsLastOutputAndHeldPastTheFloor_wasReadAndNeverAnswered() {
    assertThat(input.readUnansweredAtEnd(app, 0)).as("nothing written").isFalse();
    input.written(10, 0);
    input.answered();
    assertThat(input.readUnansweredAtEnd(app, HELD)).as("answered after it").isFalse();
    input.written(7, 1_000);
    input.written(3, 5_000); // still unanswered since the first of them
    assertThat(input.readUnansweredAtEnd(app, 1_000 + HELD - 1)).as("had it less than the floor").isFalse();
    assertThat(input.readUnansweredAtEnd(app, 1_000 + HELD)).isTrue();
    assertThat(input.unansweredBytes()).isEqualTo(10);
    input.answered();
    assertThat(input.readUnansweredAtEnd(app, 10 * HELD)).isFalse();
  }

  @Test
  void bytesStillInTheRelaysOwnBufferOrAnsweredWithAResetWereNeverReadByTheApp() {
    input.written(20, 0);
    input.answered();
    input.written(5, 0);
    assertThat(input.readUnanswered(0, false, HELD)).isTrue();
    assertThat(input.readUnanswered(5, false, HELD)).as("all 5 still in the relay's buffer").isFalse();
    assertThat(input.readUnanswered(4, false, HELD)).as("one of them reached the app").isTrue();
    assertThat(input.readUnanswered(0, true, HELD)).as("the dead socket reset them: written after the death").isFalse();
  }
}
