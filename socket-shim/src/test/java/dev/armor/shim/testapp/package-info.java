/**
 * The unmodified app the agent tests run: {@link dev.armor.shim.testapp.ProbeApp} knows nothing of Armor and
 * reports what the JDK shows it (remote and local addresses, answers, exceptions) one line per command.
 */
package dev.armor.shim.testapp;
