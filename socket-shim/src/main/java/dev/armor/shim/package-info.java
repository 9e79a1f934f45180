/**
 * The Armor socket shim: a Java agent that reroutes an unmodified app's TCP connects, binds and accepts through
 * its node's Armor daemon. {@link dev.armor.shim.Agent} is the agent's entry (and the only class the app can see);
 * the runtime lives in {@code dev.armor.shim.internal}; the protocol with the daemon, which the daemon uses too, in
 * {@code dev.armor.shim.control}.
 */
package dev.armor.shim;
