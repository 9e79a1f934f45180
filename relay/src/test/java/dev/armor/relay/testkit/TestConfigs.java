package dev.armor.relay.testkit;

import dev.armor.relay.RelayConfig;
import dev.armor.relay.RelayConfig.LinkMode;
import java.util.Locale;

/**
 * Relay configurations of the tests: the defaults, with the kind of links the run asks for
 * ({@code -Darmor.test.links=dedicated|multiplexed|auto}) and the data path it asks for ({@code
 * -Darmor.test.dataPath=relayed|direct}); the build runs the relay's tests with the defaults (dedicated or
 * multiplexed links as descriptors allow, the direct path), with multiplexed links (so relayed) and with the relayed
 * path on dedicated links, see the module's pom.
 */
public final class TestConfigs {

  private TestConfigs() {}

  /** {@link RelayConfig#defaults} with the run's links. */
  public static RelayConfig defaults(String nodeName, String dataHost) {
    return RelayConfig.defaults(nodeName, dataHost).withLinks(links()).withDataPath(dataPath());
  }

  /** The data path this run tests. */
  public static RelayConfig.DataPath dataPath() {
    String asked = System.getProperty("armor.test.dataPath", "").trim();
    return asked.isEmpty()
        ? RelayConfig.DEFAULT_DATA_PATH
        : RelayConfig.DataPath.valueOf(asked.toUpperCase(Locale.ROOT));
  }

  /** The links this run tests. */
  public static LinkMode links() {
    String asked = System.getProperty("armor.test.links", "").trim();
    return asked.isEmpty() ? RelayConfig.DEFAULT_LINKS : LinkMode.valueOf(asked.toUpperCase(Locale.ROOT));
  }
}
