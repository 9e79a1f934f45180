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
 */
public record ConnectionInfo(
    String id,
    ServiceAddress service,
    InetSocketAddress client,
    Side side,
    State state,
    long bytesToServer,
    long bytesToClient,
    int reattachments) {

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
    /** Over. */
    CLOSED
  }
}
