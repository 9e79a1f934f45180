package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code sun.nio.ch.NioSocketImpl.accept(SocketImpl)} returns: lets the hook correct the accepted impl's
 * peer address (connections that came through the daemon). The hook never throws.
 */
public final class SocketImplAcceptAdvice {
  private SocketImplAcceptAdvice() {}

  @Advice.OnMethodExit
  static void exit(@Advice.Argument(0) Object accepted, @Hook.SocketAccepted MethodHandle hook) throws Throwable {
    hook.invokeExact(accepted);
  }
}
