package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code sun.nio.ch.NioSocketImpl.getOption(int)} returns {@code SO_BINDADDR} (what {@code
 * Socket.getLocalAddress()} asks): lets the hook report the service's address for a socket accepted on a rerouted
 * listener, whose real local address is the loopback one. Other options pass untouched, without a call. The hook
 * never throws.
 */
public final class SocketImplLocalAddressAdvice {
  private SocketImplLocalAddressAdvice() {}

  @Advice.OnMethodExit
  static void exit(
      @Advice.This Object self,
      @Advice.Argument(0) int option,
      @Advice.Return(readOnly = false) Object value,
      @Hook.SocketLocalAddress MethodHandle hook)
      throws Throwable {
    if (option == 0x000F && value != null) { // java.net.SocketOptions.SO_BINDADDR (inlined: no constant of ours)
      value = (Object) hook.invokeExact(self, value);
    }
  }
}
