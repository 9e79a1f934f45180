/**
 * Plain socket programs the system tests run under Armor: they know nothing of it (no dependency beyond the
 * JDK), exactly like an operator's app. {@link dev.armor.systemtest.apps.LineEchoServer} echoes lines back,
 * {@link dev.armor.systemtest.apps.LineClient} sends numbered lines and reports what came back and when.
 */
package dev.armor.systemtest.apps;
