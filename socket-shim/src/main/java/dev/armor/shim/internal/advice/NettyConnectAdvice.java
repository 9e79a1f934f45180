package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Around {@code io.netty.channel.unix.Socket.connect(SocketAddress)} (and its shaded copies), where every connect of
 * Netty's epoll transport goes: before, replaces the address with the hook's answer (the channel has recorded the
 * app's destination already, so the app keeps seeing it); after, shows a connect that completed at once to the
 * connected hook, which fails a self-connection by throwing.
 */
public final class NettyConnectAdvice {
  private NettyConnectAdvice() {}

  @Advice.OnMethodEnter
  static void enter(
      @Advice.This Object self,
      @Advice.Argument(value = 0, readOnly = false) SocketAddress remote,
      @Hook.NettyConnect MethodHandle hook)
      throws Throwable {
    SocketAddress target = (SocketAddress) hook.invokeExact(self, remote);
    if (target != null) {
      remote = target;
    }
  }

  @Advice.OnMethodExit
  static void exit(@Advice.This Object self, @Advice.Return boolean connected, @Hook.NettyConnected MethodHandle hook)
      throws Throwable {
    if (connected) {
      hook.invokeExact(self);
    }
  }
}
