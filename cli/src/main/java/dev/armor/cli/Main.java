package dev.armor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code armor} command. */
@Command(
    name = "armor",
    mixinStandardHelpOptions = true,
    // --help and --version on every subcommand too (armor ftm --help answered "Unknown option")
    scope = CommandLine.ScopeType.INHERIT,
    version = "armor 0.1.0",
    description = "Transparent high availability for TCP client-server applications.",
    subcommands = {
      FtmCommand.class,
      DaemonCommand.class,
      RunCommand.class,
      AgentOptsCommand.class,
      StatusCommand.class,
      DemoCommand.class,
      StopCommand.class,
      MoveCommand.class,
      DrainCommand.class,
      UndrainCommand.class,
      EnrolCommand.class,
      FaultsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    CommandLine armor = commandLine().setExecutionExceptionHandler(Main::handle);
    int code;
    try {
      ConfigFile config = ConfigFile.of(args, armor);
      if (config != null) {
        armor.setDefaultValueProvider(config);
      }
      code = armor.execute(args);
    } catch (IllegalArgumentException e) {
      armor.getErr().println("armor: " + e.getMessage());
      code = 2; // as picocli exits for a bad option
    }
    if (code != 0 || !Boolean.getBoolean("armor.stay")) {
      System.exit(code);
    }
  }

  /**
   * The command line of {@code armor}: enum options take their values in any case ({@code --links multiplexed}),
   * converted and refused by picocli itself, naming the option and the values it takes.
   */
  static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** An expected failure prints one line that says what Armor found; anything else prints its trace too. */
  private static int handle(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    if (e instanceof ArmorCliException || e instanceof java.io.IOException || e instanceof IllegalArgumentException
        || e instanceof IllegalStateException) {
      commandLine.getErr().println("armor: " + e.getMessage());
    } else {
      e.printStackTrace(commandLine.getErr());
    }
    return 1;
  }
}
