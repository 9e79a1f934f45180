/**
 * Hangs found from progress: whether a protected app that still beats is doing the work its clients gave it, judged
 * from what the kernel shows of its TCP sockets. {@link dev.armor.execution.progress.ProgressWatch} holds the rule
 * (what is owed, what counts as progress); {@link dev.armor.execution.progress.AppSocketSampler} takes the samples it
 * judges. The Execution ARMOR's element drives both and kills an app the watch finds hung.
 */
package dev.armor.execution.progress;
