package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.remoteAddress()}: a rerouted connection reports the destination the app
 * asked for (Netty builds the channel's remote address from it), not the daemon's 127.0.0.1 listener.
 */
public final class NettyRemoteAddressAdvice {
  private NettyRemoteAddressAdvice() {}

  @Advice.OnMethodExit
  static void exit(
      @Advice.This Object self,
      @Advice.Return(readOnly = false) InetSocketAddress remote,
      @Hook.NettyRemoteAddress MethodHandle hook)
      throws Throwable {
    remote = (InetSocketAddress) hook.invokeExact(self, remote);
  }
}
