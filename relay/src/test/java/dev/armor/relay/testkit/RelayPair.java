package dev.armor.relay.testkit;

import dev.armor.relay.AppProtocol;
import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.ConnectionInfo.Side;
import dev.armor.relay.LinkTls;
import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.Relay;
import dev.armor.relay.RelayConfig;
import dev.armor.relay.Relays;
import dev.armor.relay.ServiceAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * Two relays in one JVM: the client app's daemon on 127.0.0.2 ("n1") and the server app's daemon on 127.0.0.3
 * ("n2"), with an alive/dead switch standing in for the server app's liveness probe.
 */
public final class RelayPair implements AutoCloseable {

  public final Relay client;
  public final Relay server;
  public final RecordingListener clientEvents = new RecordingListener();
  public final RecordingListener serverEvents = new RecordingListener();
  /** What the server relay's liveness probe answers. */
  public final AtomicBoolean serverAppAlive = new AtomicBoolean(true);
  /** The recovery policy {@link #expose} reports with the location, as the daemon passes on the FTM's. */
  public volatile RecoveryPolicy policy = RecoveryPolicy.RECONNECT;
  /** The protocol {@link #expose} reports with the location (armor run --protocol). */
  public volatile AppProtocol protocol = AppProtocol.AUTO;

  public RelayPair() {
    this(UnaryOperator.identity());
  }

  /** Both relays with {@code customize} applied to their default configs. */
  public RelayPair(UnaryOperator<RelayConfig> customize) {
    this(customize, LinkTls.PLAINTEXT, LinkTls.PLAINTEXT);
  }

  /** As {@link #RelayPair(UnaryOperator)}, each relay's links secured as given. */
  public RelayPair(UnaryOperator<RelayConfig> customize, LinkTls clientLinks, LinkTls serverLinks) {
    client = Relays.start(customize.apply(TestConfigs.defaults("n1", "127.0.0.2")), clientEvents, clientLinks);
    Relay started = null;
    try {
      started = Relays.start(customize.apply(TestConfigs.defaults("n2", "127.0.0.3")), serverEvents, serverLinks);
    } finally {
      if (started == null) {
        client.close();
      }
    }
    server = started;
  }

  /** The server app serves {@code service}; the client relay is told where. */
  public void expose(ServiceAddress service, TestServer app) {
    server.exposeLocalService(
        service, app.address(), () -> CompletableFuture.completedFuture(serverAppAlive.get()));
    client.serviceLocated(service, server.dataAddress(), policy, protocol);
  }

  /** Re-exposes {@code service} on a new app instance (restart) and tells the client relay, as the daemon would. */
  public void restartedOn(ServiceAddress service, TestServer app) {
    server.withdrawLocalService(service);
    expose(service, app);
  }

  /** A client app connecting to {@code service}, as the shim reroutes it: to the client relay's listener. */
  public Socket connect(ServiceAddress service) throws IOException {
    int port = client.openServiceListener(service);
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setTcpNoDelay(true);
    return socket;
  }

  public Optional<ConnectionInfo> clientSide(Socket clientApp) {
    return find(client.connections(), Side.CLIENT, clientApp.getLocalPort());
  }

  /** The client side of the connection whose client app has local port {@code clientPort}, while it is open. */
  public Optional<ConnectionInfo> clientSide(int clientPort) {
    return find(client.connections(), Side.CLIENT, clientPort);
  }

  public List<ConnectionInfo> serverSide() {
    return server.connections();
  }

  private static Optional<ConnectionInfo> find(List<ConnectionInfo> connections, Side side, int clientPort) {
    return connections.stream()
        .filter(c -> c.side() == side && c.client().getPort() == clientPort)
        .findFirst();
  }

  @Override
  public void close() {
    try {
      client.close();
    } finally {
      server.close();
    }
  }
}
