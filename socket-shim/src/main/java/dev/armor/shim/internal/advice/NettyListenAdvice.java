package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.listen(int)}: the listening hook registers a rerouted listener with
 * the daemon, whose refusal it throws as the bind's {@code BindException}.
 */
public final class NettyListenAdvice {
  private NettyListenAdvice() {}

  @Advice.OnMethodExit
  static void exit(@Advice.This Object self, @Hook.NettyListening MethodHandle hook) throws Throwable {
    hook.invokeExact(self);
  }
}
