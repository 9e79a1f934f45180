package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * Around {@code sun.nio.ch.NioSocketImpl.bind(InetAddress, int)} of a server socket ({@code ServerSocket}): before,
 * swaps the requested address for the hook's (127.0.0.1:0) once the daemon agrees; after, lets the hook listen and
 * report the real port, then sets the impl's {@code localport} and {@code address} back to what the app asked for,
 * which is what {@code getLocalPort()} and {@code getInetAddress()} return. Client sockets and port 0 pass.
 */
public final class SocketImplBindAdvice {
  private SocketImplBindAdvice() {}

  @Advice.OnMethodEnter
  static InetSocketAddress enter(
      @Advice.FieldValue("server") boolean server,
      @Advice.Argument(value = 0, readOnly = false) InetAddress host,
      @Advice.Argument(value = 1, readOnly = false) int port,
      @Hook.SocketBind MethodHandle hook)
      throws Throwable {
    if (!server || port == 0) {
      return null;
    }
    InetSocketAddress replacement = (InetSocketAddress) hook.invokeExact(host, port);
    InetSocketAddress requested = new InetSocketAddress(host, port);
    host = replacement.getAddress();
    port = replacement.getPort();
    return requested;
  }

  @Advice.OnMethodExit(onThrowable = Throwable.class)
  static void exit(
      @Advice.This Object self,
      @Advice.Enter InetSocketAddress requested,
      @Advice.Thrown Throwable thrown,
      @Advice.FieldValue("fd") FileDescriptor fd,
      @Advice.FieldValue(value = "localport", readOnly = false) int localport,
      @Advice.FieldValue(value = "address", readOnly = false) InetAddress address,
      @Hook.SocketBound MethodHandle hook)
      throws Throwable {
    if (requested == null || thrown != null) {
      return;
    }
    hook.invokeExact(self, fd, requested, localport);
    localport = requested.getPort();
    address = requested.getAddress();
  }
}
