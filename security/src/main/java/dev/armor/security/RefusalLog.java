package dev.armor.security;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs refused peers at most once a second, each line with how many refusals it stands for since the last one: a
 * peer that sends garbage or knocks without credentials a million times costs one line a second, and the operator
 * still sees that it happens and how often.
 */
public final class RefusalLog {

  private static final long INTERVAL_NANOS = 1_000_000_000L;

  private final Logger log;
  private final String where;
  private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);
  private final AtomicLong unlogged = new AtomicLong();

  /** @param where what refuses, as the operator knows it ("the FTM channel on 10.0.0.1:40123") */
  public RefusalLog(Logger log, String where) {
    this.log = log;
    this.where = where;
  }

  /** {@code peer} was refused because {@code why}. */
  public void refused(Object peer, String why) {
    long now = System.nanoTime();
    long last = lastLogged.get();
    if (now - last < INTERVAL_NANOS || !lastLogged.compareAndSet(last, now)) {
      unlogged.incrementAndGet();
      return;
    }
    long skipped = unlogged.getAndSet(0);
    log.warn("{} refused {}: {}{}", where, peer, why,
        skipped == 0 ? "" : " (and " + skipped + " other refusal(s) since the last one logged)");
  }
}
