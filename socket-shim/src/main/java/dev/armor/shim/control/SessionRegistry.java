package dev.armor.shim.control;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open sessions by pid, so a request connection's HELLO finds the session it belongs to. A process has at
 * most one: a new session for a pid replaces the old one (the shim reconnected after a daemon restart, or the pid
 * was reused before the old session's end of stream was read).
 */
final class SessionRegistry {
  private final ConcurrentHashMap<Long, ShimSessionImpl> byPid = new ConcurrentHashMap<>();

  void add(ShimSessionImpl session) {
    byPid.put(session.pid(), session);
  }

  /** Removes {@code session}, unless a newer session for its pid already replaced it. */
  void remove(ShimSessionImpl session) {
    byPid.remove(session.pid(), session);
  }

  Optional<ShimSessionImpl> find(long pid) {
    return Optional.ofNullable(byPid.get(pid)).filter(ShimSessionImpl::isOpen);
  }
}
