package dev.armor.shim.internal;

import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.none;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.armor.shim.internal.advice.NettyAcceptAdvice;
import dev.armor.shim.internal.advice.NettyBindAdvice;
import dev.armor.shim.internal.advice.NettyCloseAdvice;
import dev.armor.shim.internal.advice.NettyConnectAdvice;
import dev.armor.shim.internal.advice.NettyConnectFinishedAdvice;
import dev.armor.shim.internal.advice.NettyListenAdvice;
import dev.armor.shim.internal.advice.NettyLocalAddressAdvice;
import dev.armor.shim.internal.advice.NettyRemoteAddressAdvice;
import java.lang.System.Logger.Level;
import java.lang.instrument.ClassFileTransformer;
import java.net.SocketAddress;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.utility.JavaModule;

/**
 * Byte Buddy's transformer for {@link NettyTransformer}: the Netty advice inlined into {@code
 * io.netty.channel.unix.Socket} (connect, finishConnect, bind, listen, localAddress, remoteAddress, accept) and
 * {@code FileDescriptor} (close), of any copy whose class name ends so. Loaded only when such a class loads.
 */
final class NettyInstrumentation {
  private NettyInstrumentation() {}

  static ClassFileTransformer transformer(Class<?> hooks) throws ReflectiveOperationException {
    Advice.WithCustomMapping mapping = Transformations.hookMapping(hooks);
    return new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
        .disableClassFormatChanges()
        .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
        .with(new ErrorLog())
        .ignore(none())
        .type(nameEndsWith(NettyTransformer.SOCKET.replace('/', '.')))
        .transform(Transformations.advice(
            mapping.to(NettyConnectAdvice.class).on(named("connect").and(takesArguments(SocketAddress.class))),
            mapping.to(NettyConnectFinishedAdvice.class).on(named("finishConnect").and(takesArguments(0))),
            mapping.to(NettyBindAdvice.class).on(named("bind").and(takesArguments(SocketAddress.class))),
            mapping.to(NettyListenAdvice.class).on(named("listen").and(takesArguments(int.class))),
            mapping.to(NettyLocalAddressAdvice.class).on(named("localAddress").and(takesArguments(0))),
            mapping.to(NettyRemoteAddressAdvice.class).on(named("remoteAddress").and(takesArguments(0))),
            mapping.to(NettyAcceptAdvice.class).on(named("accept").and(takesArguments(1))
                .and(takesArgument(0, byte[].class)))))
        .type(nameEndsWith(NettyTransformer.FILE_DESCRIPTOR.replace('/', '.')))
        .transform(Transformations.advice(mapping.to(NettyCloseAdvice.class).on(named("close").and(takesArguments(0)))))
        .makeRaw();
  }

  /** Byte Buddy's errors for these classes, said once each. */
  private static final class ErrorLog extends AgentBuilder.Listener.Adapter {
    @Override
    public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
        Throwable throwable) {
      Log.get().log(Level.ERROR, "the Armor socket shim could not instrument " + typeName + ": the sockets of Netty's"
          + " native transport are NOT rerouted through Armor in this JVM (" + throwable + ")");
    }
  }
}
