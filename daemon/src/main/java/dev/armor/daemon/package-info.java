/**
 * The daemon, one per node: a cluster member whose gateway ARMOR ({@code daemon@NODE}) routes every message
 * between local ARMORs and the FTM, installs Execution ARMORs, and hosts the proxy elements
 * {@link dev.armor.daemon.AppCommClient} (APP_COMM_CLIENT) and {@link dev.armor.daemon.AppCommServer}
 * (APP_COMM_SERVER) that drive the data plane ({@code dev.armor.relay}). Local apps reach it through the shim
 * endpoint ({@link dev.armor.daemon.ShimEndpoint}), a Unix socket in a private directory. Registrations reach the
 * FTM over the {@link dev.armor.daemon.FtmChannel} (TCP) while it is open. Start with
 * {@link dev.armor.daemon.DaemonNode}.
 */
package dev.armor.daemon;
