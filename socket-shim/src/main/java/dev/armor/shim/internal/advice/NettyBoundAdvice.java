package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * After {@code io.netty.channel.unix.Socket.bind(SocketAddress)}; before it runs {@link ServerChannelBindAdvice}'s
 * enter advice (the requested address swapped for the hook's, as for a {@code ServerSocketChannel}). Tells the
 * bound hook of a rerouted bind, so that the socket reports the requested address and is registered when it
 * listens.
 */
public final class NettyBoundAdvice {
  private NettyBoundAdvice() {}

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
