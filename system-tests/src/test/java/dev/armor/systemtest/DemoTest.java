package dev.armor.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.systemtest.ArmorTestCluster.CliResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's first command: {@code armor demo} runs its cluster, survives the kills and prints the timeline. */
class DemoTest {

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void demo_survivesTwoKills_andPrintsTheTimeline() throws Exception {
    Path home = Files.createTempDirectory("armor-demo-");
    CliResult demo = ArmorTestCluster.armor(home, null, Duration.ofMinutes(3), "demo", "--kills", "2",
        "--interval", "3s", "--ftm-port", "7803", "--cluster-port", "25803", "--service-port", "7401");
    assertThat(demo.exit()).as("demo output:%n%s", demo.out()).isZero();
    assertThat(demo.out())
        .contains("| policy | kill | server pid | crash detected | server running again | client's first byte after |");
    for (String policy : new String[] {"reconnect", "replay"}) {
      for (int kill = 1; kill <= 2; kill++) {
        assertThat(demo.out()).as("%s, kill %d", policy, kill)
            .containsPattern("\\| " + policy + " \\| " + kill + " \\| \\d+ \\| \\+\\d+ ms \\| \\+\\d+ ms \\| \\+\\d+ ms \\|");
      }
      assertThat(demo.out()).containsPattern(policy + " client: SUMMARY .*errors=0 eof=false");
    }
    assertThat(demo.out())
        .containsPattern("replay client: SUMMARY .* mismatches=0")
        .contains("each one connection lived through 2 server kills");
    assertThat(ArmorTestCluster.armor(home, null, Duration.ofSeconds(60), "stop").out())
        .as("the demo stopped its own cluster").contains("nothing to stop");
    ArmorTestCluster.deleteHome(home);
  }
}
