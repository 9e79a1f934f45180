package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.accept(byte[])}, which fills the array with the accepted peer's
 * address (a length byte, then the address, scope id and port): the accepted hook writes the real client's address
 * there instead of the daemon's 127.0.0.1 one, before Netty makes the child channel of it.
 */
public final class NettyAcceptAdvice {
  private NettyAcceptAdvice() {}

  @Advice.OnMethodExit
  static void exit(
      @Advice.This Object self,
      @Advice.Return int accepted,
      @Advice.Argument(0) byte[] address,
      @Hook.NettyAccepted MethodHandle hook)
      throws Throwable {
    if (accepted >= 0) {
      hook.invokeExact(self, address);
    }
  }
}
