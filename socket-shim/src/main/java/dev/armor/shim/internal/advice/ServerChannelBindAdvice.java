package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Around {@code sun.nio.ch.ServerSocketChannelImpl.netBind(SocketAddress, int)}, which binds, listens and returns
 * the address the channel then reports: before, swaps the requested address for the hook's; after, lets the hook
 * report the real port and returns the requested address instead of the real one. Its enter advice also runs
 * before {@code AsynchronousServerSocketChannelImpl.bind}, with {@link AsyncServerBoundAdvice} after.
 */
public final class ServerChannelBindAdvice {
  private ServerChannelBindAdvice() {}

  @Advice.OnMethodEnter
  static SocketAddress enter(
      @Advice.Argument(value = 0, readOnly = false) SocketAddress local, @Hook.ChannelBind MethodHandle hook)
      throws Throwable {
    SocketAddress replacement = (SocketAddress) hook.invokeExact(local);
    if (replacement == null) {
      return null;
    }
    SocketAddress requested = local;
    local = replacement;
    return requested;
  }

  @Advice.OnMethodExit(onThrowable = Throwable.class)
  static void exit(
      @Advice.This Object self,
      @Advice.Enter SocketAddress requested,
      @Advice.Thrown Throwable thrown,
      @Advice.Return(readOnly = false) SocketAddress bound,
      @Hook.ChannelBound MethodHandle hook)
      throws Throwable {
    if (requested == null || thrown != null) {
      return;
    }
    bound = (SocketAddress) hook.invokeExact(self, requested, bound);
  }
}
