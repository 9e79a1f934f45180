package dev.armor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link ProxyCpu} reads real processes' CPU time, their live children's included (socat forks per connection). */
class ProxyCpuTest {

  @Test
  void countsTheCpuOfAProcessesBusyChild() throws Exception {
    // The parent shell only waits; all the CPU is its child's, which a reading of the parent alone would miss.
    Process parent = new ProcessBuilder("sh", "-c", "sh -c 'while :; do :; done' & wait").start();
    try {
      ProxyCpu cpu = ProxyCpu.of(Long.toString(parent.pid()));
      ProxyCpu.Sample start = cpu.sample();
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        ProxyCpu.Sample used = cpu.sample().minus(start);
        return used.userMicros() + used.kernelMicros() >= 200_000;
      });
    } finally {
      parent.descendants().forEach(ProcessHandle::destroyForcibly);
      parent.destroyForcibly();
    }
  }

  @Test
  void aDirectConnectionHasNoProxies() throws Exception {
    ProxyCpu none = ProxyCpu.of("-");
    assertThat(none.isEmpty()).isTrue();
    assertThat(none.sample()).isEqualTo(new ProxyCpu.Sample(0, 0));
  }

  @Test
  void aProcessThatEndedCountsNothing() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    assertThat(ProxyCpu.of(Long.toString(ended.pid())).sample()).isEqualTo(new ProxyCpu.Sample(0, 0));
  }
}
