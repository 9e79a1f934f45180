package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code sun.nio.ch.Net.connect(ProtocolFamily, FileDescriptor, InetAddress, int)}, the
 * one method every JDK TCP connect goes through: replaces the address and port with the hook's answer. The callers
 * recorded the app's destination already, so the app keeps seeing it. An exception from the hook (the daemon
 * failed the connect) propagates as the connect's own {@code IOException}. A connect that completed at once
 * (blocking, or immediate) is shown to the connected hook on the way out, which fails a self-connection.
 */
public final class NetConnectAdvice {
  private NetConnectAdvice() {}

  @Advice.OnMethodEnter
  static void enter(
      @Advice.Argument(value = 2, readOnly = false) InetAddress remote,
      @Advice.Argument(value = 3, readOnly = false) int remotePort,
      @Hook.Connect MethodHandle hook)
      throws Throwable {
    InetSocketAddress target = (InetSocketAddress) hook.invokeExact(remote, remotePort);
    if (target != null) {
      remote = target.getAddress();
      remotePort = target.getPort();
    }
  }

  @Advice.OnMethodExit
  static void exit(
      @Advice.Return int result, @Advice.Argument(1) FileDescriptor fd, @Hook.Connected MethodHandle connected)
      throws Throwable {
    if (result > 0) {
      connected.invokeExact(fd);
    }
  }
}
