package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * Before {@code io.netty.channel.unix.FileDescriptor.close()}: tells the hook, which unregisters a rerouted
 * listener. Never throws.
 */
public final class NettyCloseAdvice {
  private NettyCloseAdvice() {}

  @Advice.OnMethodEnter
  static void enter(@Advice.This Object self, @Hook.NettyClosed MethodHandle hook) throws Throwable {
    hook.invokeExact(self);
  }
}
