package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.finishConnect()}, where a pending Netty native connect learns it
 * completed: shows a completed one to the connected hook, which fails a self-connection by throwing.
 */
public final class NettyConnectFinishedAdvice {
  private NettyConnectFinishedAdvice() {}

  @Advice.OnMethodExit
  static void exit(@Advice.This Object self, @Advice.Return boolean connected, @Hook.NettyConnected MethodHandle hook)
      throws Throwable {
    if (connected) {
      hook.invokeExact(self);
    }
  }
}
