/**
 * The FTM (fault tolerance manager): a cluster singleton ARMOR ({@link dev.armor.ftm.Ftm}) hosting APP_SERVER_DB
 * and the {@link dev.armor.ftm.FtmElement} (daemon registry, launches, status). Its tables are replicated with
 * Pekko Distributed Data ({@link dev.armor.ftm.ReplicatedTables}) so another FTM-capable node can take over.
 * Node loss: {@link dev.armor.ftm.MembershipWatcher} turns cluster membership into FTM operations, the FTM element
 * migrates a lost node's Execution ARMORs where {@link dev.armor.ftm.Placement} says and reconciles when it starts;
 * {@link dev.armor.ftm.HeartbeatMonitor} records its heartbeats to the daemons (informative only).
 * {@link dev.armor.ftm.FtmNode} starts an FTM process; {@link dev.armor.ftm.ControlService} is its gRPC API for
 * the CLI; {@link dev.armor.ftm.FtmChannelServer} takes the daemons' registrations over TCP; {@link dev.armor.ftm.ClusterNodeConfig} builds the Pekko configuration every Armor node uses.
 */
package dev.armor.ftm;
