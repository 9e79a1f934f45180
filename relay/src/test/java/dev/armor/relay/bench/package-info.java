/** Hand-run measurements of the relay (not tests): start with {@link dev.armor.relay.bench.RoundTripBenchmark}. */
package dev.armor.relay.bench;
