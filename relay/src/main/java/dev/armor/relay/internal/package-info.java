/**
 * The Netty implementation of {@link dev.armor.relay.Relay}; not an API (the daemon uses
 * {@link dev.armor.relay.Relays#start}). Start with {@link dev.armor.relay.internal.NettyRelay} (wiring, threads,
 * the daemon's calls), then {@link dev.armor.relay.internal.LinkFrames} (the protocol between two relays),
 * {@link dev.armor.relay.internal.ClientConnection} (hold, re-attach, backpressure: the client side's state machine)
 * and {@link dev.armor.relay.internal.ServerConnection} (the server app side, liveness probe on app close).
 */
package dev.armor.relay.internal;
