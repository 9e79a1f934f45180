package dev.armor.shim.internal.advice;

import java.lang.invoke.MethodHandle;
import net.bytebuddy.asm.Advice;

/**
 * After {@code finishAccept} of {@code sun.nio.ch.ServerSocketChannelImpl} and of {@code
 * UnixAsynchronousServerSocketChannelImpl} returns the accepted channel, before the app has it: lets the hook set
 * the local address the channel reports to the service's (its real one, read in the channel's constructor, is the
 * rerouted listener's loopback address, which also says which listener accepted it). The hook never throws.
 */
public final class ChannelAcceptedLocalAdvice {
  private ChannelAcceptedLocalAdvice() {}

  @Advice.OnMethodExit
  static void exit(@Advice.Return Object accepted, @Hook.ChannelAcceptedLocal MethodHandle hook) throws Throwable {
    if (accepted != null) {
      hook.invokeExact(accepted);
    }
  }
}
