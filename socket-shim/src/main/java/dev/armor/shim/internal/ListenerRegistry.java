package dev.armor.shim.internal;

import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The app's rerouted listeners, by the loopback port they really listen on. Accepts look them up to know whether
 * a connection came through the daemon; closes look them up by owner (the {@code SocketImpl} or {@code
 * ServerSocketChannel}) to tell the daemon. Owners are held weakly: a listener the app dropped without closing
 * must not be kept alive by the shim.
 */
final class ListenerRegistry {

  /** One rerouted listener: the service address the app asked for and the port it really has. */
  record Listener(InetSocketAddress requested, int actualPort, WeakReference<Object> owner) {}

  private final Map<Integer, Listener> byActualPort = new ConcurrentHashMap<>();

  void add(Object owner, InetSocketAddress requested, int actualPort) {
    byActualPort.put(actualPort, new Listener(requested, actualPort, new WeakReference<>(owner)));
  }

  /** Whether the app has no rerouted listener (then no accept needs a look-up). */
  boolean isEmpty() {
    return byActualPort.isEmpty();
  }

  /** The rerouted listener on 127.0.0.1:{@code actualPort}, or null. */
  Listener find(int actualPort) {
    return byActualPort.get(actualPort);
  }

  /** Removes and returns the listener {@code owner} had, or null when it had none. */
  Listener removeOwnedBy(Object owner) {
    if (byActualPort.isEmpty()) {
      return null;
    }
    for (Listener listener : byActualPort.values()) {
      if (listener.owner().get() == owner && byActualPort.remove(listener.actualPort(), listener)) {
        return listener;
      }
    }
    return null;
  }
}
