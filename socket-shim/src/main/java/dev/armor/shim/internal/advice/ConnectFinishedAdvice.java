package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code sun.nio.ch.Net.pollConnectNow(FileDescriptor)}, where every pending connect of {@code Socket} and
 * {@code SocketChannel} learns it completed: shows a completed one to the connected hook, which fails a
 * self-connection by throwing (the caller closes the socket and the app's connect throws it).
 */
public final class ConnectFinishedAdvice {
  private ConnectFinishedAdvice() {}

  @Advice.OnMethodExit
  static void exit(
      @Advice.Return boolean connected, @Advice.Argument(0) FileDescriptor fd, @Hook.Connected MethodHandle hook)
      throws Throwable {
    if (connected) {
      hook.invokeExact(fd);
    }
  }
}
