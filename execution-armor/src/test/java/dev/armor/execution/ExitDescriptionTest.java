package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Exit statuses in an operator's words. */
class ExitDescriptionTest {

  @Test
  void describeExit_signalStatuses_nameTheSignal() {
    assertThat(ExecutionElement.describeExit(137)).isEqualTo("was killed by SIGKILL (exit status 137)");
    assertThat(ExecutionElement.describeExit(143)).isEqualTo("was killed by SIGTERM (exit status 143)");
    assertThat(ExecutionElement.describeExit(134)).isEqualTo("was killed by SIGABRT (exit status 134)");
    assertThat(ExecutionElement.describeExit(139)).isEqualTo("was killed by SIGSEGV (exit status 139)");
    assertThat(ExecutionElement.describeExit(130)).isEqualTo("was killed by SIGINT (exit status 130)");
    assertThat(ExecutionElement.describeExit(129)).isEqualTo("was killed by signal 1 (exit status 129)");
  }

  @Test
  void describeExit_otherStatuses_areSaidAsStatuses() {
    assertThat(ExecutionElement.describeExit(1)).isEqualTo("exited with status 1");
    assertThat(ExecutionElement.describeExit(128)).isEqualTo("exited with status 128");
    assertThat(ExecutionElement.describeExit(255)).isEqualTo("exited with status 255");
    assertThat(ExecutionElement.describeExit(-1)).isEqualTo("exited with status -1");
  }
}
