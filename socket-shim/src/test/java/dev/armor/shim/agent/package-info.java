/**
 * System tests of the agent: each starts the probe app in a real child JVM (JDK 17 and JDK 25) with the built
 * agent jar, against a {@link dev.armor.shim.agent.FakeDaemon} (a real {@code ShimControlServer}) and loopback echo
 * servers standing for the daemon's relay and for ordinary servers. Start with {@link
 * dev.armor.shim.agent.AgentTestSupport}; {@link dev.armor.shim.agent.ChildJvm} dumps the child's output whenever
 * a wait times out.
 */
package dev.armor.shim.agent;
