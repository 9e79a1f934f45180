package dev.armor.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientLogTest {

  @Test
  void totals_addUpTheLastReportOfEveryRun(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.log");
    Files.write(file, List.of(
        "Picked up JAVA_TOOL_OPTIONS: -javaagent:x",
        "CONNECTED stream=1 at=1000",
        "FIRST at=1010",
        "STATS at=2000 received=10 lost=0 dup=0 foreign=0",
        "STATS at=3000 received=20 lost=32 dup=16 foreign=0",
        "CONNECTED stream=2 at=5000",
        "STATS at=6000 received=5 lost=16 dup=0 foreign=48",
        "EOF at=6500"));

    ClientLog.Totals totals = new ClientLog(file).totals();

    assertThat(totals).isEqualTo(new ClientLog.Totals(48, 16, 1, 2));
  }

  @Test
  void firstByteAfterStall_isTheEndOfTheFirstGapAfterTheFault(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.log");
    Files.write(file, List.of(
        "STALL from=900 to=1050 ms=150",
        "STALL from=2000 to=2600 ms=600",
        "STALL from=9000 to=9500 ms=500"));
    ClientLog log = new ClientLog(file);

    assertThat(log.firstByteAfterStall(1990)).hasValue(2600);
    assertThat(log.firstByteAfterStall(9600)).isEmpty();
    assertThat(new ClientLog(dir.resolve("missing.log")).firstByteAfterStall(0)).isEmpty();
  }

  @Test
  void firstEchoOfRunAfter_skipsRunsThatStartedBefore(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.log");
    Files.write(file, List.of(
        "CONNECTED stream=1 at=1000", "FIRST at=1010",
        "CONNECTED stream=2 at=5000", "FIRST at=5400"));

    assertThat(new ClientLog(file).firstEchoOfRunAfter(4000)).hasValue(5400);
    assertThat(new ClientLog(file).firstEchoOfRunAfter(6000)).isEmpty();
  }
}
