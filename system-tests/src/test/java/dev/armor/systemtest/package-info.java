/**
 * System tests: real processes, real sockets, a real Pekko cluster across JVMs, all started through the same
 * {@code scripts/armor} launcher an operator uses. {@link dev.armor.systemtest.ArmorTestCluster} starts an FTM and
 * daemons on their own loopback addresses; the test apps in {@code apps} are plain socket programs.
 */
package dev.armor.systemtest;
