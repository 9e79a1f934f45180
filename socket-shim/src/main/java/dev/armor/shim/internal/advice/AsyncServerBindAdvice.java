package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Around {@code sun.nio.ch.AsynchronousServerSocketChannelImpl.bind(SocketAddress, int)}, which binds, listens and
 * keeps the bound address in its {@code localAddress} field: before, swaps the requested address for the hook's (as
 * {@link ServerChannelBindAdvice} does for a {@code ServerSocketChannel}); after, lets the hook report the real port
 * and puts the requested address in the field, which {@code getLocalAddress()} returns.
 */
public final class AsyncServerBindAdvice {
  private AsyncServerBindAdvice() {}

  @Advice.OnMethodEnter
  static SocketAddress enter(
      @Advice.Argument(value = 0, readOnly = false) SocketAddress local, @Hook.ChannelBind MethodHandle hook)
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
      @Advice.FieldValue(value = "localAddress", readOnly = false) InetSocketAddress localAddress,
      @Hook.ChannelBound MethodHandle hook)
      throws Throwable {
    if (requested == null || thrown != null) {
      return;
    }
    SocketAddress reported = (SocketAddress) hook.invokeExact(self, requested, (SocketAddress) localAddress);
    localAddress = (InetSocketAddress) reported;
  }
}
