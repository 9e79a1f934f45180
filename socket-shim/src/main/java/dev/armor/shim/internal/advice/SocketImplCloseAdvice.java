package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/** Before {@code sun.nio.ch.NioSocketImpl.close()} of a server socket: tells the hook. The hook never throws. */
public final class SocketImplCloseAdvice {
  private SocketImplCloseAdvice() {}

  @Advice.OnMethodEnter
  static void enter(
      @Advice.This Object self, @Advice.FieldValue("server") boolean server, @Hook.ListenerClosed MethodHandle hook)
      throws Throwable {
    if (server) {
      hook.invokeExact(self);
    }
  }
}
