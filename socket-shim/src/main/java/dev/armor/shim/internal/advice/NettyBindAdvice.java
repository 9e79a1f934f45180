package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Around {@code io.netty.channel.unix.Socket.bind(SocketAddress)}: before, swaps the requested address for the Netty
 * bind hook's (a server socket's bind to a service address; unlike {@link ServerChannelBindAdvice}'s class, this one
 * binds client sockets too, and the hook tells them apart); after a rerouted bind, tells the bound hook, so that the
 * socket reports the requested address and is registered when it listens.
 */
public final class NettyBindAdvice {
  private NettyBindAdvice() {}

  @Advice.OnMethodEnter
  static SocketAddress enter(
      @Advice.Argument(value = 0, readOnly = false) SocketAddress local, @Hook.NettyBind MethodHandle hook)
      throws Throwable {
    SocketAddress replacement = (SocketAddress) hook.invokeExact(local);
    if (replacement == null) {
      return null;
    }
    SocketAddress requested = local;
    local = replacement;
    return requested;
  }

  @Advice.OnMethodExit(onThrowable = Throwable.class)
  static void exit(
      @Advice.This Object self,
      @Advice.Enter SocketAddress requested,
      @Advice.Thrown Throwable thrown,
      @Hook.NettyBound MethodHandle hook)
      throws Throwable {
    if (requested != null && thrown == null) {
      hook.invokeExact(self, requested);
    }
  }
}
