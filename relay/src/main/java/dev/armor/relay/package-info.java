/**
 * The daemons' data plane: moves application bytes between a client app, its node's daemon, the server node's
 * daemon and the server app, and keeps a client's connection open while its server is recovered elsewhere or
 * restarted. Start with {@link dev.armor.relay.Relay} (what a daemon can ask), {@link dev.armor.relay.RelayListener}
 * (what it is told) and {@link dev.armor.relay.Relays#start} with a {@link dev.armor.relay.RelayConfig}. The
 * Netty implementation lives in {@code dev.armor.relay.internal}.
 */
package dev.armor.relay;
