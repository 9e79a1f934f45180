package dev.armor.shim.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The daemon's route answers, so repeated connects do not ask again. A {@code Via} answer holds while the daemon
 * lives (its listener port for a service is stable), so it is kept until the session is lost; a {@code Direct}
 * answer is kept for {@link #DIRECT_TTL_NANOS} only, so a destination that becomes a protected service is
 * rerouted soon after. {@code Fail} answers are not kept. The clock is injected for tests.
 */
final class RouteCache {
  static final long DIRECT_TTL_NANOS = 1_000_000_000L;
  private static final int PRUNE_ABOVE = 4096;

  /** A cached answer: {@code via} is the rewritten target, or null for "connect directly". */
  record Known(InetSocketAddress via, long storedAtNanos) {
    boolean isDirect() {
      return via == null;
    }
  }

  private final LongSupplier nanoClock;
  private final Map<InetSocketAddress, Known> known = new ConcurrentHashMap<>();
  private final Set<Integer> viaPorts = ConcurrentHashMap.newKeySet();

  RouteCache(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** The still valid answer for {@code destination}, or null when the daemon must be asked. */
  Known get(InetSocketAddress destination) {
    Known answer = known.get(destination);
    if (answer == null || answer.isDirect() && isExpired(answer, nanoClock.getAsLong())) {
      return null;
    }
    return answer;
  }

  /** Remembers that {@code destination} goes through the daemon's listener on 127.0.0.1:{@code port}. */
  InetSocketAddress putVia(InetSocketAddress destination, int port) {
    InetSocketAddress via = new InetSocketAddress(Loopback.IPV4, port);
    viaPorts.add(port);
    known.put(destination, new Known(via, nanoClock.getAsLong()));
    return via;
  }

  /** Remembers for a second that {@code destination} is not a protected service. */
  void putDirect(InetSocketAddress destination) {
    long now = nanoClock.getAsLong();
    if (known.size() >= PRUNE_ABOVE) {
      known.values().removeIf(answer -> answer.isDirect() && isExpired(answer, now));
    }
    known.put(destination, new Known(null, now));
  }

  /** Whether any answer led to a daemon listener (only then can a connect meet a listener that is gone). */
  boolean hasDaemonListeners() {
    return !viaPorts.isEmpty();
  }

  /** Whether {@code port} is the port of one of the daemon's listeners the answers led to. */
  boolean isDaemonListenerPort(int port) {
    return viaPorts.contains(port);
  }

  /** True for a connect to one of the daemon's own listeners: never asked about, never rewritten. */
  boolean isDaemonListener(InetAddress address, int port) {
    return viaPorts.contains(port) && address.isLoopbackAddress();
  }

  /** Forgets the answers that lead to the daemon's listener on {@code port}: nobody listens there any more. */
  void forgetVia(int port) {
    known.values().removeIf(answer -> !answer.isDirect() && answer.via().getPort() == port);
    viaPorts.remove(port);
  }

  /** Forgets everything: the daemon that gave these answers is gone. */
  void clear() {
    known.clear();
    viaPorts.clear();
  }

  private static boolean isExpired(Known answer, long nowNanos) {
    return nowNanos - answer.storedAtNanos() >= DIRECT_TTL_NANOS;
  }
}
