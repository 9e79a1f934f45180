package dev.armor.execution.progress;

import dev.armor.elements.wire.AppSockets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Takes samples of a process's TCP sockets; a seam so the watch's driving is tested without a kernel. */
public interface AppSocketSampler {

  /** Why samples cannot be taken on this machine (the tool missing, not Linux); empty when they can. */
  Optional<String> unavailable();

  /**
   * The listeners of process {@code pid} and its descendants, and the connections they accepted, taken off the
   * caller's thread. A sample that cannot be taken completes normally, with {@link AppSockets#getError()} set.
   */
  CompletionStage<AppSockets> sample(long pid);

  /** The real one: {@code /proc} and iproute2's {@code ss}. */
  AppSocketSampler SYSTEM = new KernelSocketSampler();
}
