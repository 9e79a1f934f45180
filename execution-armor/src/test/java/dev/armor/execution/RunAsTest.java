package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class RunAsTest {

  private static final List<String> COMMAND = List.of("java", "-jar", "server.jar");

  @Test
  void userNames_areNamesOnly_neverOptionsPathsOrShellSyntax() {
    assertThat(RunAs.isUserName("nobody")).isTrue();
    assertThat(RunAs.isUserName("app-svc.1")).isTrue();
    assertThat(RunAs.isUserName("-r")).isFalse();
    assertThat(RunAs.isUserName("../root")).isFalse();
    assertThat(RunAs.isUserName("a b")).isFalse();
    assertThat(RunAs.isUserName("x;id")).isFalse();
    assertThat(RunAs.isUserName("")).isFalse();
  }

  @Test
  void noUserOrThisProcesssOwn_leavesTheCommandAlone() throws IOException {
    assertThat(RunAs.command("", COMMAND)).isEqualTo(COMMAND);
    assertThat(RunAs.command(System.getProperty("user.name"), COMMAND)).isEqualTo(COMMAND);
  }

  @Test
  void anotherUser_goesThroughSetprivWithItsIds_asRoot() throws IOException {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "only root switches users");
    List<String> command = RunAs.command("nobody", COMMAND);

    assertThat(command).startsWith("setpriv", "--reuid=65534").contains("--init-groups").endsWith(COMMAND.toArray(String[]::new));
    assertThat(command.get(2)).matches("--regid=\\d+");
  }

  @Test
  void aUserTheNodeDoesNotHave_failsSayingSo() {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "a non-root process fails earlier");
    assertThatThrownBy(() -> RunAs.command("no-such-user-here", COMMAND)).isInstanceOf(IOException.class)
        .hasMessageContaining("no user no-such-user-here");
  }
}
