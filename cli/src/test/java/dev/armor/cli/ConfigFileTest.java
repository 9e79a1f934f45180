package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.relay.RelayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --config FILE}: the file sets options, flags override it, the options' own defaults fill the rest. */
class ConfigFileTest {

  @TempDir Path dir;

  private Path file(String hocon) throws IOException {
    Path file = dir.resolve("armor.conf");
    Files.writeString(file, hocon);
    return file;
  }

  /** Parses {@code args} as main does (the file found first), returning the subcommand's object. */
  private static Object parse(String... args) {
    CommandLine armor = Main.commandLine();
    ConfigFile config = ConfigFile.of(args, armor);
    if (config != null) {
      armor.setDefaultValueProvider(config);
    }
    return armor.parseArgs(args).subcommand().commandSpec().userObject();
  }

  @Test
  void theFileSetsOptions_aFlagOverridesIt_andTheRestKeepTheirDefaults() throws IOException {
    Path file = file("""
        daemon {
          node = n7
          host = "10.0.0.7"
          hold-timeout = 30s
          links = multiplexed
          ftm-capable = true
          stable-after = 4s
        }
        ftm { port = 7800 }
        """);

    DaemonCommand daemon = (DaemonCommand) parse("daemon", "--config", file.toString(), "--hold-timeout", "45s");

    assertThat(daemon.node).isEqualTo("n7");
    assertThat(daemon.host).isEqualTo("10.0.0.7");
    assertThat(daemon.holdTimeout).as("the flag wins").isEqualTo("45s");
    assertThat(daemon.links).isEqualTo(RelayConfig.LinkMode.MULTIPLEXED);
    assertThat(daemon.ftmCapable).isTrue();
    assertThat(daemon.detection.stableAfter).as("a mixin's option").isEqualTo("4s");
    assertThat(daemon.replayLog).as("the option's own default").isEqualTo("8MiB");
    FtmCommand ftm = (FtmCommand) parse("ftm", "--config=" + file);
    assertThat(ftm.port).isEqualTo(7800);
    assertThat(ftm.host).isEqualTo("127.0.0.1");
  }

  @Test
  void aListSetsAListOption() throws IOException {
    Path file = file("ftm { seed = [\"pekko://armor@10.0.0.2:25520\", \"pekko://armor@10.0.0.3:25520\"] }");

    FtmCommand ftm = (FtmCommand) parse("ftm", "--config", file.toString());

    assertThat(ftm.seeds).containsExactly("pekko://armor@10.0.0.2:25520", "pekko://armor@10.0.0.3:25520");
  }

  @Test
  void aKeyNoOptionHas_aForeignSection_orAMissingFile_areRefusedNamingThem() throws IOException {
    Path typo = file("daemon { hold-timeuot = 30s }");
    assertThatThrownBy(() -> parse("daemon", "--config", typo.toString())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown setting daemon.hold-timeuot").hasMessageContaining(typo.toString());
    Path foreign = file("status { json = true }");
    assertThatThrownBy(() -> parse("daemon", "--config", foreign.toString()))
        .hasMessageContaining("unknown section 'status'");
    assertThatThrownBy(() -> parse("daemon", "--config", dir.resolve("none.conf").toString()))
        .hasMessageContaining("no such file");
    Path detach = file("daemon { detach = true }");
    assertThatThrownBy(() -> parse("daemon", "--config", detach.toString())).hasMessageContaining("daemon.detach");
    Path nested = file("daemon { links { mode = multiplexed } }");
    assertThatThrownBy(() -> ConfigFile.of(new String[] {"daemon", "--config", nested.toString()}, Main.commandLine()))
        .as("refused when the file is read, before any option is parsed")
        .hasMessageContaining("daemon.links must be a value, not a section");
  }

  @Test
  void aBadValueIsRefusedByItsOption() throws IOException {
    Path file = file("daemon { node = n1, host = h, links = shared }");
    assertThatThrownBy(() -> parse("daemon", "--config", file.toString()))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--links");
  }
}
