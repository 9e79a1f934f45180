package dev.armor.ftm;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.stream.Collectors;

/** The Pekko configuration of an Armor node: cluster provider, its own address, seeds, roles. */
public final class ClusterNodeConfig {

  public static final String SYSTEM_NAME = "armor";
  public static final int DEFAULT_CLUSTER_PORT = 25520;

  private ClusterNodeConfig() {}

  public static String address(String host, int port) {
    return "pekko://" + SYSTEM_NAME + "@" + host + ":" + port;
  }

  public static Config build(String host, int port, List<String> seedNodes, List<String> roles) {
    String seeds = seedNodes.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(","));
    String roleList = roles.stream().map(r -> "\"" + r + "\"").collect(Collectors.joining(","));
    return ConfigFactory.systemProperties()
        .withFallback(ConfigFactory.parseString(
            "pekko.remote.artery.canonical.hostname = \"" + host + "\"\n"
                + "pekko.remote.artery.canonical.port = " + port + "\n"
                + "pekko.remote.artery.bind.hostname = \"" + host + "\"\n"
                + "pekko.cluster.seed-nodes = [" + seeds + "]\n"
                + "pekko.cluster.roles = [" + roleList + "]\n"))
        .withFallback(ConfigFactory.parseResources(ClusterNodeConfig.class.getClassLoader(), "armor-cluster.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }
}
