package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * Before {@code sun.nio.ch.ServerSocketChannelImpl.implCloseSelectableChannel()}, and before {@code
 * sun.nio.ch.AsynchronousServerSocketChannelImpl.close()} (which may run again on a closed channel: the hook
 * reports a listener once): tells the hook. Never throws.
 */
public final class ServerChannelCloseAdvice {
  private ServerChannelCloseAdvice() {}

  @Advice.OnMethodEnter
  static void enter(@Advice.This Object self, @Hook.ListenerClosed MethodHandle hook) throws Throwable {
    hook.invokeExact(self);
  }
}
