/**
 * The Netty implementation of {@link dev.armor.relay.Relay}; not an API (the daemon uses
 * {@link dev.armor.relay.Relays#start}). Start with {@link dev.armor.relay.internal.NettyRelay} (wiring, threads,
 * the daemon's calls), then {@link dev.armor.relay.internal.LinkFrames} (the protocol between two relays),
 * {@link dev.armor.relay.internal.ClientConnection} (hold, re-attach, backpressure: the client side's state machine)
 * and {@link dev.armor.relay.internal.ServerConnection} (the server app side, liveness probe on app close). A
 * recovery's rules live in small types of their own: {@link dev.armor.relay.internal.ReplayLog} and
 * {@link dev.armor.relay.internal.StreamDigest} (replay, turn by turn and compared as it comes),
 * {@link dev.armor.relay.internal.ReconnectGuard} (what reconnect can hide, and its watchdog); every connect goes
 * through {@link dev.armor.relay.internal.SelfConnections}.
 */
package dev.armor.relay.internal;
