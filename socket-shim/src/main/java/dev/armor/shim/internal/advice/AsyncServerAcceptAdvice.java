package dev.armor.shim.internal.advice;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;

/**
 * At the start of {@code sun.nio.ch.UnixAsynchronousServerSocketChannelImpl.finishAccept(FileDescriptor,
 * InetSocketAddress, ...)}, which both its accept paths (completed at once, or later by the channel group) end in:
 * lets the hook replace the peer address the accepted {@code AsynchronousSocketChannel} will report, as {@link
 * ServerChannelAcceptAdvice} does for a {@code ServerSocketChannel}. The hook never throws.
 */
public final class AsyncServerAcceptAdvice {
  private AsyncServerAcceptAdvice() {}

  @Advice.OnMethodEnter
  static void enter(
      @Advice.Argument(0) FileDescriptor acceptedFd,
      @Advice.Argument(value = 1, readOnly = false) InetSocketAddress peer,
      @Hook.ChannelAccepted MethodHandle hook)
      throws Throwable {
    peer = (InetSocketAddress) (SocketAddress) hook.invokeExact(acceptedFd, (SocketAddress) peer);
  }
}
