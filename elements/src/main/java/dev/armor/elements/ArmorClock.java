package dev.armor.elements;

/** The time source of an ARMOR, injected so that tests drive time instead of sleeping. */
public interface ArmorClock {

  /** Monotonic nanoseconds, for durations. */
  long nanoTime();

  /** Wall-clock milliseconds since the epoch, for timestamps an operator reads. */
  long currentTimeMillis();

  ArmorClock SYSTEM =
      new ArmorClock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
          return System.currentTimeMillis();
        }
      };
}
