/**
 * Test support for the relay: {@link dev.armor.relay.testkit.RelayPair} (a client daemon's relay on 127.0.0.2 and a
 * server daemon's on 127.0.0.3), {@link dev.armor.relay.testkit.TestServer} (blocking-socket server apps that can
 * crash), {@link dev.armor.relay.testkit.Pattern} (byte-exact transfer checks). Start with {@code RelayTest}.
 */
package dev.armor.relay.testkit;
