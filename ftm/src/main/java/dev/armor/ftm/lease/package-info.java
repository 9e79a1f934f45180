/**
 * Node leases: how a lost node's work moves in about two seconds and never runs twice (docs/ARCHITECTURE.md,
 * "Node leases"). Each daemon's {@link dev.armor.ftm.lease.LeaseHolder} renews its node's lease with the
 * {@link dev.armor.ftm.lease.LeaseWitness} of every cluster member; it holds the lease while a quorum granted it, and
 * its apps' shims halt when it ends ({@link dev.armor.ftm.lease.NodeLease} is what they are told). The FTM's
 * {@link dev.armor.ftm.lease.LeaseVoter} asks the witnesses to declare a silent node lost; a majority's yes means its
 * lease has surely ended, and the FTM moves its work without waiting for the cluster's downing. The rules are pure
 * types ({@link dev.armor.ftm.lease.WitnessBook}, {@link dev.armor.ftm.lease.HeldLease},
 * {@link dev.armor.ftm.lease.Quorums}) with time passed in; the actors only carry messages and timers.
 */
package dev.armor.ftm.lease;
