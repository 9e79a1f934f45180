package dev.armor.relay;

import java.util.concurrent.CompletableFuture;

/**
 * Asked by the server-side relay when a protected server app ends one of its connections (end of stream or
 * reset): was that the app closing the connection (it is alive: pass the close on to the client), or the app
 * dying (hold the client's connection for a recovery)?
 */
@FunctionalInterface
public interface LivenessProbe {

  /** Completes true if the app process is alive, false if it died. Must complete, within the daemon's grace. */
  CompletableFuture<Boolean> appAlive();
}
