package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * After {@code sun.nio.ch.AsynchronousServerSocketChannelImpl.bind(SocketAddress, int)}, which binds, listens and
 * keeps the bound address in its {@code localAddress} field; before it runs {@link ServerChannelBindAdvice}'s enter
 * advice (the requested address swapped for the hook's). Lets the hook report the real port and puts the requested
 * address in the field, which {@code getLocalAddress()} returns.
 */
public final class AsyncServerBoundAdvice {
  private AsyncServerBoundAdvice() {}

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
