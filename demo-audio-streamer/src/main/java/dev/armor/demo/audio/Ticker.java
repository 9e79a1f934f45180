package dev.armor.demo.audio;

/** A monotonic nanosecond clock, injected so that pacing and continuity logic can be driven by a fake in tests. */
@FunctionalInterface
interface Ticker {

    /** The JVM's monotonic clock. */
    Ticker SYSTEM = System::nanoTime;

    /** Nanoseconds from an arbitrary origin; only differences are meaningful. */
    long nanoTime();
}
