/**
 * An Execution ARMOR as a process of its own (the daemon's {@code --execution-armors process} mode): the
 * {@link dev.armor.execution.process.ExecutionArmorMain} entry point hosts the same
 * {@link dev.armor.execution.ExecutionElement} in an ARMOR actor of a small local actor system, and talks to its
 * daemon over an {@link dev.armor.execution.process.ArmorChannel}: length-prefixed {@code ArmorMessage}
 * protobufs on a Unix domain socket in the daemon's private run directory. Start with {@code ArmorChannel}.
 */
package dev.armor.execution.process;
