package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DetacherTest {

  @Test
  void tuningOptions_passOnJvmTuningOnly() {
    List<String> launcher = List.of("-XX:TieredStopAtLevel=1", "-Darmor.root=/opt/armor", "-Xmx512m",
        "-javaagent:/opt/agent.jar=socket=/run/x", "-Xss1m", "-XX:+UseSerialGC", "-ea", "-Xlog:gc");

    assertThat(Detacher.tuningOptions(launcher))
        .containsExactly("-XX:TieredStopAtLevel=1", "-Xmx512m", "-Xss1m", "-XX:+UseSerialGC");
  }
}
