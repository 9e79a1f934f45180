package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.RelayConfig.LinkMode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** links=auto: dedicated under half of the descriptor limit, multiplexed above it, dedicated again under 40 %. */
class LinkModesTest {

  @Test
  void autoFollowsTheShareOfDescriptorsInUse() {
    AtomicLong open = new AtomicLong(10);
    LinkModes modes = new LinkModes(LinkMode.AUTO, "t1", Runnable::run, 1000, open::get);
    assertThat(modes.multiplexed()).isFalse();
    open.set(501);
    await().atMost(Duration.ofSeconds(5)).until(modes::multiplexed); // sampled at most every 250 ms
    open.set(450); // between 40 and 50 %: stays multiplexed
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5)).until(modes::multiplexed);
    open.set(399);
    await().atMost(Duration.ofSeconds(5)).until(() -> !modes.multiplexed());
  }

  @Test
  void fixedModesNeverChange() {
    assertThat(new LinkModes(LinkMode.DEDICATED, "t1", Runnable::run).multiplexed()).isFalse();
    assertThat(new LinkModes(LinkMode.MULTIPLEXED, "t1", Runnable::run).multiplexed()).isTrue();
  }

  @Test
  void readsThisProcesssLimitAndDescriptors() {
    assertThat(LinkModes.openFilesLimit()).isPositive();
    assertThat(LinkModes.openDescriptors()).isPositive();
  }
}
