package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** What the daemon next to a server app concludes from the bytes it wrote to it and the app's output. */
class UnansweredInputTest {

  private final EmbeddedChannel app = new EmbeddedChannel();
  private final UnansweredInput input = new UnansweredInput();

  @Test
  void inputWrittenAfterTheAppsLastOutputWasReadAndNeverAnswered() {
    assertThat(input.readUnansweredAtEnd(app)).as("nothing written").isFalse();
    input.written(10);
    input.answered();
    assertThat(input.readUnansweredAtEnd(app)).as("answered after it").isFalse();
    input.written(7);
    assertThat(input.readUnansweredAtEnd(app)).isTrue();
    assertThat(input.unansweredBytes()).isEqualTo(7);
    input.answered();
    assertThat(input.readUnansweredAtEnd(app)).isFalse();
  }

  @Test
  void bytesStillInTheRelaysOwnBufferOrAnsweredWithAResetWereNeverReadByTheApp() {
    input.written(20);
    input.answered();
    input.written(5);
    assertThat(input.readUnanswered(0, false)).isTrue();
    assertThat(input.readUnanswered(5, false)).as("all 5 still in the relay's buffer").isFalse();
    assertThat(input.readUnanswered(4, false)).as("one of them reached the app").isTrue();
    assertThat(input.readUnanswered(0, true)).as("the dead socket reset them: written after the death").isFalse();
  }
}
