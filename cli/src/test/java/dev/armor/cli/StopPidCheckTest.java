package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code armor stop} signals the process a pid file names, never a later process that reused its pid. */
class StopPidCheckTest {

  @TempDir Path pids;

  @Test
  void aProcessThatStartedBeforeItsPidFileWasWrittenIsTheOneItNames() throws Exception {
    Path file = Files.writeString(pids.resolve("daemon-n1.pid"), "" + ProcessHandle.current().pid());
    assertThat(StopCommand.startedAfter(ProcessHandle.current(), file)).isFalse();
  }

  @Test
  void aProcessThatStartedAfterThePidFileWasWrittenReusedThePid() throws Exception {
    Path file = Files.writeString(pids.resolve("daemon-n1.pid"), "" + ProcessHandle.current().pid());
    Instant started = ProcessHandle.current().info().startInstant().orElseThrow();
    Files.setLastModifiedTime(file, FileTime.from(started.minusSeconds(60)));
    assertThat(StopCommand.startedAfter(ProcessHandle.current(), file)).isTrue();
  }
}
