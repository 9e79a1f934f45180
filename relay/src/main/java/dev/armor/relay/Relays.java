package dev.armor.relay;

import dev.armor.relay.internal.NettyRelay;

/** Starts relays. The one entry point to the implementation. */
public final class Relays {

  private Relays() {}

  /**
   * Starts a relay: its event loops run and its data address is bound when this returns.
   *
   * @throws IllegalStateException if the data address cannot be bound (the message says which and why)
   */
  public static Relay start(RelayConfig config, RelayListener listener, LinkTls links) {
    return NettyRelay.start(config, listener, links);
  }

  /** As {@link #start(RelayConfig, RelayListener, LinkTls)} with links in the clear: for relays of one test JVM. */
  public static Relay start(RelayConfig config, RelayListener listener) {
    return start(config, listener, LinkTls.PLAINTEXT);
  }
}
