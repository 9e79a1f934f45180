package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.relay.RelayConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The daemon's enum options, converted by picocli: in any case, defaults when absent, a refusal naming the option. */
class EnumOptionsTest {

  private static DaemonCommand parse(String... options) {
    CommandLine armor = Main.commandLine();
    String[] args = new String[options.length + 5];
    System.arraycopy(new String[] {"daemon", "--node", "n1", "--host", "127.0.0.2"}, 0, args, 0, 5);
    System.arraycopy(options, 0, args, 5, options.length);
    CommandLine.ParseResult parsed = armor.parseArgs(args);
    return (DaemonCommand) parsed.subcommand().commandSpec().userObject();
  }

  @Test
  void valuesAreTakenInAnyCase_andAbsentOnesTakeTheirDefaults() {
    DaemonCommand daemon = parse("--links", "multiplexed", "--data-path", "Relayed");
    assertThat(daemon.links).isEqualTo(RelayConfig.LinkMode.MULTIPLEXED);
    assertThat(daemon.dataPath).isEqualTo(RelayConfig.DataPath.RELAYED);
    assertThat(daemon.replayOverflow).isEqualTo(RelayConfig.ReplayOverflow.RECONNECT);
    assertThat(parse().links).isEqualTo(RelayConfig.LinkMode.AUTO);
  }

  @Test
  void runsProtocol_isTakenInAnyCase_defaultsToAuto_andReachesTheWireUnderItsOwnName() {
    CommandLine armor = Main.commandLine();
    RunCommand run = (RunCommand) armor.parseArgs("run", "--node", "n1", "--protocol", "Generic", "--", "java")
        .subcommand().commandSpec().userObject();
    assertThat(run.protocol).isEqualTo(dev.armor.relay.AppProtocol.GENERIC);
    RunCommand byDefault = (RunCommand) Main.commandLine().parseArgs("run", "--node", "n1", "--", "java")
        .subcommand().commandSpec().userObject();
    assertThat(byDefault.protocol).isEqualTo(dev.armor.relay.AppProtocol.AUTO);
    for (dev.armor.relay.AppProtocol protocol : dev.armor.relay.AppProtocol.values()) {
      assertThat(RunCommand.appProtocol(protocol).name()).isEqualTo("PROTOCOL_" + protocol.name());
    }
    assertThatThrownBy(() -> Main.commandLine().parseArgs("run", "--node", "n1", "--protocol", "smtp", "--", "java"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--protocol")
        .hasMessageContaining("smtp");
  }

  @Test
  void anUnknownValue_isRefusedNamingTheOptionAndTheValuesItTakes() {
    assertThatThrownBy(() -> parse("--links", "shared")).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--links").hasMessageContaining("DEDICATED").hasMessageContaining("shared");
  }
}
