package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command and subcommand answers {@code --help} with its usage, and starts nothing. */
class HelpTest {

  @Test
  void everySubcommandPrintsItsUsageForHelp() {
    CommandLine armor = Main.commandLine();
    assertThat(armor.getSubcommands()).containsKeys("ftm", "daemon", "run", "status", "stop", "enrol", "demo",
        "faults", "agent-opts");
    for (String name : armor.getSubcommands().keySet()) {
      if (name.equals("help")) {
        continue;
      }
      StringWriter out = new StringWriter();
      CommandLine fresh = Main.commandLine();
      fresh.setOut(new PrintWriter(out));
      int code = fresh.execute(name, "--help");
      assertThat(code).as("armor %s --help", name).isZero();
      assertThat(out.toString()).as("armor %s --help", name).startsWith("Usage: armor " + name);
    }
  }

  @Test
  void theVersionIsTheSameOnEveryCommand() {
    StringWriter out = new StringWriter();
    CommandLine armor = Main.commandLine();
    armor.setOut(new PrintWriter(out));
    assertThat(armor.execute("status", "--version")).isZero();
    assertThat(out.toString().trim()).isEqualTo("armor 0.1.0");
  }
}
