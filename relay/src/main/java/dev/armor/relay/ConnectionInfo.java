package dev.armor.relay;

import java.net.InetSocketAddress;

/**
 * A snapshot of one proxied connection, for status and events.
 *
 * @param id unique within the cluster: the client daemon's node name and a counter
 * @param service the service address the client connected to
 * @param client the client app's address as the client's daemon saw it
 * @param side CLIENT on the client's daemon (APP_COMM_CLIENT), SERVER on the server's (APP_COMM_SERVER)
 * @param state what the connection is doing now
 * @param bytesToServer bytes the client app wrote that were delivered towards the server
 * @param bytesToClient bytes delivered to the client app
 * @param reattachments how many times it was re-attached to a new server instance
 * @param recovery the recovery in effect for it now: {@link RecoveryPolicy#REPLAY} while the client side keeps a
 *     replay log for it; {@link RecoveryPolicy#RECONNECT} otherwise (the service's policy, or a replay log that
 *     outgrew its bound)
 * @param replayLogBytes client side: bytes in its replay log (what a restarted server would be replayed)
 * @param peerAcknowledged bytes of this side's output on the current link that the other relay acknowledged
 *     (client side: received by the server app's socket; server side: delivered to the client app or dropped as
 *     duplicates). Counted only for replayed connections (acknowledgements are sent only for them); else 0.
 * @param divergedAtOffset -1, or where the restarted server's output stopped matching what the client app had
 *     already received: the connection was reset instead of spliced. The offset is in the server-to-client stream
 *     since the connection's last fresh attach, the start of the smallest range the relay could tell apart.
 * @param serverBytesKept client side: bytes the server sent that are kept for the client app (while its process is
 *     probed, or ORPHANED for its restarted instance); else 0
 * @param direct the connection's bytes take the direct path (the client's daemon connected to the server app
 *     itself; see {@link RelayConfig.DataPath#DIRECT}); false while relayed or not attached
 */
public record ConnectionInfo(
    String id,
    ServiceAddress service,
    InetSocketAddress client,
    Side side,
    State state,
    long bytesToServer,
    long bytesToClient,
    int reattachments,
    RecoveryPolicy recovery,
    long replayLogBytes,
    long peerAcknowledged,
    long divergedAtOffset,
    long serverBytesKept,
    boolean direct) {

  /** A snapshot without the replay fields (as before issue 4): reconnect, nothing logged, never diverged. */
  public ConnectionInfo(
      String id,
      ServiceAddress service,
      InetSocketAddress client,
      Side side,
      State state,
      long bytesToServer,
      long bytesToClient,
      int reattachments) {
    this(id, service, client, side, state, bytesToServer, bytesToClient, reattachments, RecoveryPolicy.RECONNECT, 0,
        0, -1, 0, false);
  }

  public enum Side {
    CLIENT,
    SERVER
  }

  public enum State {
    /** The client is connected to its daemon; the path to the server is being set up. */
    CONNECTING,
    /** Bytes flow end to end. */
    ATTACHED,
    /** The server side was lost; the client's socket is kept open and its writes are held. */
    HELD,
    /**
     * Client side only: the client app died (a protected client, its process probed dead) while attached; the link to
     * the server is kept, with the server's bytes held, until the client's restarted instance connects again (see
     * docs/ARCHITECTURE.md, "Client crash"). The server app notices nothing.
     */
    ORPHANED,
    /** Over. */
    CLOSED
  }
}
