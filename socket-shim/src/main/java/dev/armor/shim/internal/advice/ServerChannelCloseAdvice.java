package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/** Before {@code sun.nio.ch.ServerSocketChannelImpl.implCloseSelectableChannel()}: tells the hook. Never throws. */
public final class ServerChannelCloseAdvice {
  private ServerChannelCloseAdvice() {}

  @Advice.OnMethodEnter
  static void enter(@Advice.This Object self, @Hook.ListenerClosed MethodHandle hook) throws Throwable {
    hook.invokeExact(self);
  }
}
