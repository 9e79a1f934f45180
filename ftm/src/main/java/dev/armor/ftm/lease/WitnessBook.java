package dev.armor.ftm.lease;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One member's record of the node leases it granted, and of the nodes it declared lost. Time is passed in
 * (nanoseconds, any origin), so a test drives it without sleeping. Not thread-safe: its witness actor owns it.
 *
 * <p>The two promises a witness keeps, on which the argument in {@link Quorums} rests: it declares a node lost only
 * when it has granted that node nothing for the lease it last granted plus the margin (and, for a node it never
 * granted, not before it has been up for a lease plus the margin: its memory starts with it); and once it declared a
 * node lost it never grants that node (that member incarnation) again.
 */
final class WitnessBook {

  /** A lease holder: a daemon's cluster member, one incarnation ({@code uid}) of a node. */
  record Holder(String node, String address, long uid) {}

  /** What a witness answers a vote: lost or not, and how long it has granted the node nothing. */
  record Verdict(boolean lost, long silentNanos) {}

  /** Holders remembered at most (see {@link #full()}). */
  static final int MAX_HOLDERS = 4096;

  private static final class Entry {
    long lastGrantNanos;
    long leaseNanos;
    boolean granted;
    boolean lost;
    boolean refusalTold;
  }

  private final long startedNanos;
  /** When this witness last found itself paused (its own tick late): silence it observed before counts for nothing. */
  private long pausedAtNanos = Long.MIN_VALUE;
  private long lastTickNanos = Long.MIN_VALUE;
  private final long defaultLeaseNanos;
  private final long marginNanos;
  private final LinkedHashMap<Holder, Entry> entries = new LinkedHashMap<>();

  WitnessBook(long startedNanos, long defaultLeaseNanos, long marginNanos) {
    this.startedNanos = startedNanos;
    this.defaultLeaseNanos = defaultLeaseNanos;
    this.marginNanos = marginNanos;
  }

  /** A renewal of {@code holder}'s lease for {@code leaseNanos}: empty when granted, else why it is refused. */
  Optional<String> renew(Holder holder, long leaseNanos, long nowNanos) {
    Entry entry = entries.get(holder);
    if (entry != null && entry.lost) {
      return Optional.of("a witness voted node " + holder.node() + " (member " + holder.address()
          + ") lost: it granted it nothing for its lease plus the margin");
    }
    if (entry == null) {
      if (full()) {
        return Optional.of("this witness already keeps the leases of " + MAX_HOLDERS + " nodes");
      }
      entry = new Entry();
      entries.put(holder, entry);
    }
    entry.granted = true;
    entry.lastGrantNanos = nowNanos;
    entry.leaseNanos = Math.max(leaseNanos, 0);
    return Optional.empty();
  }

  /** Whether {@code holder}'s lease has surely ended at {@code nowNanos}; a yes is final (see the class comment). */
  Verdict vote(Holder holder, long nowNanos) {
    Entry entry = entries.get(holder);
    if (entry != null && entry.lost) {
      return new Verdict(true, silentNanos(entry, nowNanos));
    }
    long silent = entry == null ? nowNanos - startedNanos : silentNanos(entry, nowNanos);
    long lease = entry == null || !entry.granted ? defaultLeaseNanos : entry.leaseNanos;
    if (silent < lease + marginNanos || sincePause(nowNanos) < lease + marginNanos) {
      return new Verdict(false, silent);
    }
    if (entry == null) {
      if (full()) {
        return new Verdict(true, silent); // never granted, and never will be while the book is full
      }
      entry = new Entry();
      entries.put(holder, entry);
    }
    entry.lost = true;
    return new Verdict(true, silent);
  }

  /** The holders this witness granted whose lease plus the margin has passed without a renewal, not yet lost. */
  List<Holder> silent(long nowNanos) {
    List<Holder> silent = new ArrayList<>();
    if (sincePause(nowNanos) < defaultLeaseNanos + marginNanos) {
      return silent;
    }
    for (Map.Entry<Holder, Entry> e : entries.entrySet()) {
      Entry entry = e.getValue();
      if (entry.granted && !entry.lost && nowNanos - entry.lastGrantNanos >= entry.leaseNanos + marginNanos) {
        silent.add(e.getKey());
      }
    }
    return silent;
  }

  /**
   * The witness's own periodic tick, every {@code intervalNanos}. One that comes more than an interval late means this
   * member did not run meanwhile (a loaded host, a pause of its JVM or VM); the nodes it heard nothing from then were
   * most likely paused with it, and need a lease's time to be heard again: until then it declares nothing lost.
   */
  void ticked(long nowNanos, long intervalNanos) {
    if (lastTickNanos != Long.MIN_VALUE && nowNanos - lastTickNanos > 2 * intervalNanos) {
      pausedAtNanos = nowNanos;
    }
    lastTickNanos = nowNanos;
  }

  private long sincePause(long nowNanos) {
    return pausedAtNanos == Long.MIN_VALUE ? Long.MAX_VALUE : nowNanos - pausedAtNanos;
  }

  /** True the first time only for each lost holder: its refusals are logged once, however often it asks. */
  boolean firstRefusal(Holder holder) {
    Entry entry = entries.get(holder);
    if (entry == null || !entry.lost || entry.refusalTold) {
      return false;
    }
    entry.refusalTold = true;
    return true;
  }

  /** Forgets holders whose member left the cluster for good (removed): no renewal or vote can name them again. */
  void forget(String address, long uid) {
    entries.keySet().removeIf(holder -> holder.uid() == uid && holder.address().equals(address));
  }

  private long silentNanos(Entry entry, long nowNanos) {
    return entry.granted ? nowNanos - entry.lastGrantNanos : nowNanos - startedNanos;
  }

  /**
   * Whether there is room for one more holder. Forgetting a holder would break a promise (a forgotten grant would be
   * voted lost at once, a forgotten loss granted again), so a full book takes no new holder instead: its renewals
   * are refused, its votes answered lost. Only authenticated members send renewals, entries go when their member is
   * removed, and a real cluster has far fewer nodes than this.
   */
  private boolean full() {
    return entries.size() >= MAX_HOLDERS;
  }
}
