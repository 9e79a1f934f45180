package dev.armor.cli;

import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ProcessLaunched;
import dev.armor.elements.wire.RestartPolicy;
import dev.armor.elements.wire.ServiceEntry;
import dev.armor.elements.wire.ServiceState;
import dev.armor.elements.control.StatusRequest;
import dev.armor.execution.RunAs;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", description = "Launch COMMAND under protection (an Execution ARMOR) on a node; returns once it started.")
final class RunCommand implements Callable<Integer> {

  @Option(names = "--node", required = true, description = "The node to run it on.")
  String node;

  @Mixin FtmAddress ftm;

  @Option(names = "--max-restarts", defaultValue = "10", description = "Restarts allowed within the window (default: ${DEFAULT-VALUE}).")
  int maxRestarts;

  @Option(names = "--restart-window", defaultValue = "60s", description = "The window for --max-restarts (default: ${DEFAULT-VALUE}).")
  String window;

  @Option(names = "--recovery", defaultValue = "reconnect",
      description = "What a client's connection gets when the server restarts: reconnect (a fresh connection to the "
          + "new instance) or replay (the client's stream is replayed to it and its repeated output suppressed; for "
          + "servers whose replies depend only on what the connection sent). Default: ${DEFAULT-VALUE}.")
  String recovery;

  @Option(names = "--protocol", defaultValue = "auto",
      description = "Which protocol recovery elements read its clients' connections under reconnect: auto (HTTP/1.1 "
          + "and HTTP/2, each recognised from a connection's first bytes), http1, http2, or generic (none: the generic "
          + "rules alone, for a protocol whose first bytes could be taken for HTTP). Default: auto.")
  dev.armor.relay.AppProtocol protocol;

  @Option(names = "--hang-timeout", paramLabel = "DURATION",
      description = "Declare the process hung (then kill and restart it) when its shim has not beaten for this long "
          + "(default: the daemon's --hang-timeout, 3 s unless set; at least two of the node's heartbeats, else the "
          + "launch is refused). Processes without the shim are never declared hung.")
  String hangTimeout;

  @Option(names = "--progress-timeout", paramLabel = "DURATION",
      description = "Also declare the process hung (then kill and restart it) when it has owed its clients work for "
          + "this long without any progress: connections left unaccepted, input left unread, a request read and not "
          + "answered (docs/FAULTS.md, \"Hangs found from progress\"). At least 1s; longer than the app may take to "
          + "answer a request. Default: off.")
  String progressTimeout;

  @Option(names = "--user", paramLabel = "NAME",
      description = "Run the command as this user of the node (the daemon must run as root); its shim reaches the "
          + "daemon through a socket of that user's own. Default: the daemon's user.")
  String user;

  @Option(names = "--env", paramLabel = "NAME=VALUE", description = "An environment variable for the command.")
  Map<String, String> environment = Map.of();

  @Option(names = "--wait-for-service", description = "Also wait until the process has bound a service address.")
  boolean waitForService;

  @Option(names = "--wait-timeout", defaultValue = "60s", description = "How long --wait-for-service waits (default: ${DEFAULT-VALUE}).")
  String waitTimeout;

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments (after --).")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    RestartPolicy policy =
        RestartPolicy.newBuilder()
            .setMaxRestarts(maxRestarts)
            .setWindowMillis(Durations.parse("--restart-window", window).toMillis())
            .setInitialBackoffMillis(250)
            .setMaxBackoffMillis(5000)
            .build();
    LaunchRequest request =
        LaunchRequest.newBuilder()
            .setNode(node)
            .addAllCommand(command)
            .putAllEnvironment(environment)
            .setWorkingDirectory(System.getProperty("user.dir"))
            .setPolicy(policy)
            .setRecovery(recoveryPolicy(recovery))
            .setProtocol(appProtocol(protocol))
            .setHangTimeoutMillis(hangTimeoutMillis(hangTimeout))
            .setProgressTimeoutMillis(progressTimeoutMillis(progressTimeout))
            .setUser(userName(user))
            .build();
    try (FtmClient client = new FtmClient(ftm.target())) {
      ProcessLaunched launched;
      try {
        launched = client.stub(60).launch(request);
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException("cannot launch on node " + node + ": " + client.explain(e));
      }
      System.out.println("launched under Execution ARMOR " + launched.getArmorId() + " on node " + launched.getNode()
          + ": pid " + launched.getPid() + ", output in " + launched.getLogFile());
      if (waitForService) {
        ServiceEntry entry = awaitService(client, launched, Durations.parse("--wait-timeout", waitTimeout));
        System.out.println("serving " + entry.getService());
      }
    }
    return 0;
  }

  /** The --user, checked for the form of a user name before anything is sent; empty when not given. */
  static String userName(String text) {
    if (text == null) {
      return "";
    }
    if (!RunAs.isUserName(text)) {
      throw new IllegalArgumentException("--user must be a user name (letters, digits, '_', '-' and '.', not starting"
          + " with '-'), but was '" + text + "'");
    }
    return text;
  }

  /** The --hang-timeout in milliseconds, 0 (the daemon's default) when not given. */
  static long hangTimeoutMillis(String text) {
    if (text == null) {
      return 0;
    }
    Duration timeout = Durations.parse("--hang-timeout", text);
    if (timeout.toMillis() < 100) {
      throw new IllegalArgumentException("--hang-timeout must be at least 100ms, but was '" + text + "'");
    }
    return timeout.toMillis();
  }

  /** The --progress-timeout in milliseconds, 0 (off) when not given. */
  static long progressTimeoutMillis(String text) {
    if (text == null) {
      return 0;
    }
    Duration timeout = Durations.parse("--progress-timeout", text);
    dev.armor.elements.ProgressTimeout.invalid("--progress-timeout", timeout).ifPresent(why -> {
      throw new IllegalArgumentException(why);
    });
    return timeout.toMillis();
  }

  static dev.armor.elements.wire.RecoveryPolicy recoveryPolicy(String text) {
    return switch (text) {
      case "reconnect" -> dev.armor.elements.wire.RecoveryPolicy.RECONNECT;
      case "replay" -> dev.armor.elements.wire.RecoveryPolicy.REPLAY;
      default -> throw new IllegalArgumentException("--recovery must be reconnect or replay, but was '" + text + "'");
    };
  }

  /** The --protocol as the wire names it (the daemon turns it back: {@code AppCommClient.relayProtocol}). */
  static dev.armor.elements.wire.AppProtocol appProtocol(dev.armor.relay.AppProtocol protocol) {
    return switch (protocol) {
      case AUTO -> dev.armor.elements.wire.AppProtocol.PROTOCOL_AUTO;
      case HTTP1 -> dev.armor.elements.wire.AppProtocol.PROTOCOL_HTTP1;
      case HTTP2 -> dev.armor.elements.wire.AppProtocol.PROTOCOL_HTTP2;
      case GENERIC -> dev.armor.elements.wire.AppProtocol.PROTOCOL_GENERIC;
    };
  }

  private ServiceEntry awaitService(FtmClient client, ProcessLaunched launched, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ClusterStatus status = client.stub(10).status(StatusRequest.getDefaultInstance());
      for (ServiceEntry entry : status.getServicesList()) {
        if (entry.getArmorId().equals(launched.getArmorId()) && entry.getState() == ServiceState.UP) {
          return entry;
        }
      }
      for (dev.armor.elements.wire.ProcessEvent event : status.getEventsList()) {
        if (event.getArmorId().equals(launched.getArmorId()) && event.getKind() == dev.armor.elements.wire.ProcessEventKind.GAVE_UP) {
          throw new ArmorCliException("the process of " + launched.getArmorId() + " keeps failing and Armor gave up: "
              + event.getDetail() + "; see " + launched.getLogFile());
        }
      }
      Thread.sleep(100); // polling the FTM, which has no watch API yet
    }
    throw new ArmorCliException("the process of " + launched.getArmorId() + " bound no service within "
        + timeout.toSeconds() + " s; see " + launched.getLogFile());
  }
}
