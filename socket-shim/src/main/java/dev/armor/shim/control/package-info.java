/**
 * The control protocol between the socket shim inside an app and its node's Armor daemon, and the daemon's end
 * of it. A daemon implements {@link dev.armor.shim.control.ShimRequestHandler} and runs a {@link
 * dev.armor.shim.control.ShimControlServer} on a Unix domain socket; each app process appears as a {@link
 * dev.armor.shim.control.ShimSession}. The byte format is documented in {@link dev.armor.shim.control.ShimWire}.
 * Pure JDK on purpose: the daemon depends on this package, and the same classes run inside apps.
 */
package dev.armor.shim.control;
