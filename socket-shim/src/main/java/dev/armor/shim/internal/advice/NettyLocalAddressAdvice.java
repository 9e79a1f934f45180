package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.localAddress()}: a rerouted listener reports the address the app asked
 * for, and a connection accepted on it the service's, instead of the real 127.0.0.1 listener's.
 */
public final class NettyLocalAddressAdvice {
  private NettyLocalAddressAdvice() {}

  @Advice.OnMethodExit
  static void exit(
      @Advice.This Object self,
      @Advice.Return(readOnly = false) InetSocketAddress local,
      @Hook.NettyLocalAddress MethodHandle hook)
      throws Throwable {
    local = (InetSocketAddress) hook.invokeExact(self, local);
  }
}
