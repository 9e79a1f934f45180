package dev.armor.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunHistoryTest {

  @Test
  void instancesThatFollowEachOther_doNotOverlap_oneThatServedAfterItsSuccessorStarted_does(@TempDir Path dir)
      throws Exception {
    Files.writeString(dir.resolve("history-10"), "1000\n1010\n1500\n");
    Files.writeString(dir.resolve("history-11"), "3000\n3200\n");
    Files.writeString(dir.resolve("history-12"), "5000\n6000\n");
    Files.writeString(dir.resolve("history-13"), "5990\n"); // a resumed old copy answering once more
    Files.writeString(dir.resolve("stuck-10"), "");

    List<RunHistory.Instance> instances = RunHistory.read(dir);

    assertThat(instances).extracting(RunHistory.Instance::pid).containsExactly(10L, 11L, 12L, 13L);
    List<RunHistory.Overlap> overlaps = RunHistory.overlaps(instances);
    assertThat(overlaps).hasSize(1);
    assertThat(overlaps.get(0).describe()).isEqualTo("two instances served at once: pid 12 served 1 time(s) within 0 ms "
        + "(6000..6000) after pid 13 began serving at 5990");
  }
}
