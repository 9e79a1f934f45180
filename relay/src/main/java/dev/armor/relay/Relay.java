package dev.armor.relay;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The daemon's data plane. Built by {@link Relays#start(RelayConfig, RelayListener)} (see the
 * relay module's README section in docs/ARCHITECTURE.md).
 *
 * <p>Client side (APP_COMM_CLIENT): the daemon opens one loopback listener per remote service a local app
 * connects to ({@link #openServiceListener}); the shim reroutes the app's connect there. Each accepted
 * connection is carried over a link of its own to the server's daemon ({@link #serviceLocated} says where).
 *
 * <p>Server side (APP_COMM_SERVER): links from client daemons arrive at {@link #dataAddress()}; the relay
 * connects each to the app listener registered with {@link #exposeLocalService}.
 */
public interface Relay extends AutoCloseable {

  /** Where other daemons open links to this one. */
  InetSocketAddress dataAddress();

  /** Opens (or returns the existing) loopback listener for {@code service}: returns its port on 127.0.0.1. */
  int openServiceListener(ServiceAddress service);

  /**
   * Opens (or returns the existing) loopback listener for the connections of one protected client, the apps of
   * ARMOR {@code clientArmor}, to {@code service}: returns its port on 127.0.0.1. Which listener accepted a
   * connection says whose it is, race-free. When such a connection's app side ends, the relay asks
   * {@code clientAlive} (the latest one given for this ARMOR: its current process) whether the app is alive: if it
   * is, the close is passed on as usual; if it died, the link to the server is kept for the hold timeout and the
   * ARMOR's next connection to the same service is attached to it instead of opening a new one (oldest first).
   * Call it again with the new process's probe when a restarted instance routes: the latest probe is used.
   */
  default int openServiceListener(ServiceAddress service, String clientArmor, LivenessProbe clientAlive) {
    return openServiceListener(service);
  }

  /**
   * The apps of protected client ARMOR {@code clientArmor} will not run again on this node: its Execution ARMOR
   * stopped or gave up. Its listeners close (each holds a port and a descriptor, otherwise for the daemon's
   * lifetime), and its connections held for a restart that will not come end now, with a reset to their servers
   * saying {@code why}, instead of at the hold timeout. A later {@link #openServiceListener(ServiceAddress, String,
   * LivenessProbe)} for the same ARMOR id opens new listeners. Unknown ids are ignored.
   */
  default void clientArmorEnded(String clientArmor, String why) {}

  /**
   * Listens at the service address itself ({@code bindTo}: the address the app asked for, which belongs to this
   * node), for clients Armor does not wrap: a non-Java client, an unwrapped JVM, another host's client without a
   * daemon. Each connection accepted there is carried like a local app's ({@link #openServiceListener}): held across
   * a crash of the server app, re-attached to its new instance. Idempotent while open. The listener closes when the
   * service fails or is unregistered ({@link #serviceFailed}) while no local app serves it.
   *
   * @return true if it opened the listener now, false if it was open already
   * @throws java.io.UncheckedIOException with a {@link java.net.BindException} cause when something else holds
   *     the address (the app's bind must then fail as it would without Armor)
   */
  default boolean listenAtServiceAddress(ServiceAddress service, InetSocketAddress bindTo) {
    throw new UnsupportedOperationException("this relay does not listen at service addresses");
  }

  /** Closes the listener {@link #listenAtServiceAddress} opened, if any (its accepted connections go on). */
  default void stopListeningAtServiceAddress(ServiceAddress service) {}

  /** The service is now served at the daemon whose data address is {@code serverDaemon}: attach and re-attach. */
  void serviceLocated(ServiceAddress service, InetSocketAddress serverDaemon);

  /**
   * As {@link #serviceLocated(ServiceAddress, InetSocketAddress)}, with the service's recovery policy, which
   * applies to its connections from now on (new ones, and held ones when they re-attach).
   */
  default void serviceLocated(ServiceAddress service, InetSocketAddress serverDaemon, RecoveryPolicy policy) {
    if (policy != RecoveryPolicy.RECONNECT) {
      throw new UnsupportedOperationException("recovery policy " + policy + " is not implemented by this relay");
    }
    serviceLocated(service, serverDaemon);
  }

  /**
   * As {@link #serviceLocated(ServiceAddress, InetSocketAddress, RecoveryPolicy)}, with which protocol recovery
   * elements read the service's connections accepted from now on.
   */
  default void serviceLocated(
      ServiceAddress service, InetSocketAddress serverDaemon, RecoveryPolicy policy, AppProtocol protocol) {
    if (protocol != AppProtocol.AUTO) {
      throw new UnsupportedOperationException("protocol " + protocol.optionName() + " is not implemented by this relay");
    }
    serviceLocated(service, serverDaemon, policy);
  }

  /** The service is recovering: hold new and lost connections (do not try the old location). */
  void serviceRecovering(ServiceAddress service);

  /**
   * The service is gone for good (failed, or unregistered): reset its held and new connections with a reason. Its
   * listener at the service address closes unless a local app serves it again ({@link #exposeLocalService} came
   * after the failure: a close and a rebind raced the FTM's notice).
   */
  void serviceFailed(ServiceAddress service, String reason);

  /** A local app listens on {@code appListener} for {@code service}; links for it are connected there. */
  void exposeLocalService(ServiceAddress service, InetSocketAddress appListener, LivenessProbe probe);

  /**
   * As {@link #exposeLocalService(ServiceAddress, InetSocketAddress, LivenessProbe)}; before each connection to
   * {@code appListener}, {@code announcer} is told which client it carries.
   */
  default void exposeLocalService(
      ServiceAddress service, InetSocketAddress appListener, LivenessProbe probe, ClientAnnouncer announcer) {
    exposeLocalService(service, appListener, probe);
  }

  /** The local app no longer serves {@code service}: links for it are refused. */
  void withdrawLocalService(ServiceAddress service);

  /**
   * For an accepted server-side connection: the local port the relay connected from, mapped to the client's
   * original address (answers the shim's {@code peerOf}); on the direct path, the port of the client's daemon's
   * socket (a port alone can be ambiguous there: {@link #clientOfPeer} is exact).
   */
  java.util.Optional<InetSocketAddress> clientOfLocalPort(int localPort);

  /**
   * For a connection the server app accepted from {@code peer}: the client it carries, if it is one of this relay's
   * (relayed: from this relay's local port on a loopback address; direct: from the client's daemon's address).
   */
  java.util.Optional<InetSocketAddress> clientOfPeer(InetSocketAddress peer);

  /** All proxied connections this daemon carries, either side. */
  List<ConnectionInfo> connections();

  @Override
  void close();
}
