/**
 * The {@code armor} command line (picocli): starting an FTM or a daemon, launching a command under protection,
 * wrapping a hand-started JVM, status, the demo, and stopping what it started. {@link dev.armor.cli.Main} lists
 * the commands; {@link dev.armor.cli.ArmorHome} is where a node keeps its sockets, logs and pid files.
 */
package dev.armor.cli;
