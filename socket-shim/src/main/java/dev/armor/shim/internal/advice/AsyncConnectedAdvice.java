package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * Before {@code sun.nio.ch.UnixAsynchronousSocketChannelImpl.setConnected()}, which every connect of an {@code
 * AsynchronousSocketChannel} reaches once it completed (its pending connects finish in native code, not through
 * {@code Net.pollConnectNow}): shows it to the connected hook, which fails a self-connection by throwing (the
 * channel closes itself and the app's connect fails with it).
 */
public final class AsyncConnectedAdvice {
  private AsyncConnectedAdvice() {}

  @Advice.OnMethodEnter
  static void enter(@Advice.FieldValue("fd") FileDescriptor fd, @Hook.Connected MethodHandle hook) throws Throwable {
    hook.invokeExact(fd);
  }
}
