package dev.armor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code armor ftm --config FILE} and {@code armor daemon --config FILE}: every option of the two commands also settable
 * in a HOCON file, under a section named after the command, each key an option's long name without its dashes:
 *
 * <pre>
 * daemon {
 *   node = n1
 *   host = "10.0.0.2"
 *   join = "10.0.0.1:7700"
 *   hold-timeout = 60s
 *   links = multiplexed
 * }
 * </pre>
 *
 * A flag on the command line overrides the file; what neither sets takes the option's own default, so the defaults
 * are written once, on the options (picocli's default provider: it is asked only for options the command line left
 * out, and a null answer falls back to the option's default). The file is read and checked before anything starts: a
 * key that names no option of its command, or a section of another command, is refused naming the file and the key.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {

  /** The commands a file configures: the long-running ones, whose options an operator keeps in a file. */
  static final Set<String> COMMANDS = Set.of("ftm", "daemon");

  private final Config section;

  private ConfigFile(Config section) {
    this.section = section;
  }

  /**
   * The file {@code args} name with {@code --config} for the command they run, read; null when they name none (or run
   * another command, which then refuses the option itself).
   *
   * @throws IllegalArgumentException the file is missing, is not HOCON, or sets something its command has no option for
   */
  static ConfigFile of(String[] args, CommandLine root) {
    if (args.length == 0 || !COMMANDS.contains(args[0])) {
      return null;
    }
    String named = null;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--")) {
        break;
      }
      if (args[i].equals("--config") && i + 1 < args.length) {
        named = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        named = args[i].substring("--config=".length());
      }
    }
    if (named == null) {
      return null;
    }
    Path file = Path.of(named);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--config " + named + ": no such file");
    }
    Config all;
    try {
      all = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
    } catch (ConfigException e) {
      throw new IllegalArgumentException("--config " + named + ": " + e.getMessage(), e);
    }
    for (String key : all.root().keySet()) {
      if (!COMMANDS.contains(key)) {
        throw new IllegalArgumentException("--config " + named + ": unknown section '" + key + "' (the file configures "
            + new TreeSet<>(COMMANDS) + ")");
      }
    }
    String command = args[0];
    Config section = all.hasPath(command) ? all.getConfig(command) : ConfigFactory.empty();
    CommandSpec spec = root.getSubcommands().get(command).getCommandSpec();
    for (Map.Entry<String, ConfigValue> setting : section.root().entrySet()) {
      String option = "--" + setting.getKey();
      if (spec.findOption(option) == null || option.equals("--config") || option.equals("--detach")) {
        throw new IllegalArgumentException("--config " + named + ": unknown setting " + command + "."
            + setting.getKey() + " (armor " + command + " has no option " + option + " a file may set; see armor "
            + command + " --help)");
      }
      if (setting.getValue().valueType() == ConfigValueType.OBJECT) {
        throw new IllegalArgumentException("--config " + named + ": " + command + "." + setting.getKey()
            + " must be a value, not a section");
      }
    }
    return new ConfigFile(section);
  }

  @Override
  public String defaultValue(ArgSpec argument) {
    if (!(argument instanceof OptionSpec option) || !option.longestName().startsWith("--")) {
      return null;
    }
    String key = option.longestName().substring(2);
    if (!section.root().containsKey(key)) {
      return null;
    }
    ConfigValue value = section.root().get(key);
    if (value.valueType() == ConfigValueType.LIST) {
      // a list option (--seed) takes its values comma-separated
      return ((List<?>) value.unwrapped()).stream().map(String::valueOf).collect(Collectors.joining(","));
    }
    return String.valueOf(value.unwrapped()); // not a section: of() refused those
  }
}
