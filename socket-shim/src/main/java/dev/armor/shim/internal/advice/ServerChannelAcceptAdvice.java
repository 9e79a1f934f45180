package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * At the start of {@code sun.nio.ch.ServerSocketChannelImpl.finishAccept(FileDescriptor, SocketAddress)}, which
 * every accept path of a server channel ends in: lets the hook replace the peer address the accepted channel will
 * report. The hook never throws.
 */
public final class ServerChannelAcceptAdvice {
  private ServerChannelAcceptAdvice() {}

  @Advice.OnMethodEnter
  static void enter(
      @Advice.Argument(0) FileDescriptor acceptedFd,
      @Advice.Argument(value = 1, readOnly = false) SocketAddress peer,
      @Hook.ChannelAccepted MethodHandle hook)
      throws Throwable {
    peer = (SocketAddress) hook.invokeExact(acceptedFd, peer);
  }
}
