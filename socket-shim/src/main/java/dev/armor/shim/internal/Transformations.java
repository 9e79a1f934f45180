package dev.armor.shim.internal;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.armor.shim.internal.advice.AsyncConnectedAdvice;
import dev.armor.shim.internal.advice.AsyncServerAcceptAdvice;
import dev.armor.shim.internal.advice.AsyncServerBoundAdvice;
import dev.armor.shim.internal.advice.ChannelAcceptedLocalAdvice;
import dev.armor.shim.internal.advice.ConnectFinishedAdvice;
import dev.armor.shim.internal.advice.NetConnectAdvice;
import dev.armor.shim.internal.advice.ServerChannelAcceptAdvice;
import dev.armor.shim.internal.advice.ServerChannelBindAdvice;
import dev.armor.shim.internal.advice.ServerChannelCloseAdvice;
import dev.armor.shim.internal.advice.SocketImplAcceptAdvice;
import dev.armor.shim.internal.advice.SocketImplBindAdvice;
import dev.armor.shim.internal.advice.SocketImplCloseAdvice;
import dev.armor.shim.internal.advice.SocketImplLocalAddressAdvice;
import java.io.FileDescriptor;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.lang.instrument.Instrumentation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.utility.JavaModule;

/**
 * The Byte Buddy agent builder that inlines the advice into the six JDK classes every TCP connect, bind and
 * accept goes through on JDK 17 and 25 (traced through both JDKs' sources before the project started):
 *
 * <ul>
 *   <li>{@code sun.nio.ch.Net.connect(ProtocolFamily, FileDescriptor, InetAddress, int)}: connects of {@code
 *       Socket}, {@code SocketChannel} (blocking, non-blocking, adaptor) and {@code AsynchronousSocketChannel};
 *       with {@code Net.pollConnectNow(FileDescriptor)} and {@code
 *       sun.nio.ch.UnixAsynchronousSocketChannelImpl.setConnected()}, where those connects complete (a
 *       self-connection to a daemon listener that is gone is failed there);
 *   <li>{@code sun.nio.ch.NioSocketImpl}: {@code bind}, {@code accept} and {@code close} of {@code ServerSocket};
 *   <li>{@code sun.nio.ch.ServerSocketChannelImpl}: {@code netBind}, {@code finishAccept} and {@code
 *       implCloseSelectableChannel} of {@code ServerSocketChannel} and its {@code socket()} adaptor;
 *   <li>{@code sun.nio.ch.AsynchronousServerSocketChannelImpl}: {@code bind} and {@code close} of {@code
 *       AsynchronousServerSocketChannel}, and {@code sun.nio.ch.UnixAsynchronousServerSocketChannelImpl}: its
 *       {@code finishAccept}.
 * </ul>
 *
 * These are boot classes, and {@code Net} is loaded before premain: so the default ignore matcher (which skips boot
 * classes) is replaced, the classes are retransformed, and only inlined advice is used (no new members: a
 * retransformation may not change a class's shape). The others are loaded (not initialized) beforehand, so
 * everything is transformed during premain and a failure shows there.
 */
final class Transformations {
  private static final String NET = "sun.nio.ch.Net";
  private static final String NIO_SOCKET_IMPL = "sun.nio.ch.NioSocketImpl";
  private static final String SERVER_SOCKET_CHANNEL_IMPL = "sun.nio.ch.ServerSocketChannelImpl";
  private static final String ASYNC_SERVER_IMPL = "sun.nio.ch.AsynchronousServerSocketChannelImpl";
  private static final String UNIX_ASYNC_SERVER_IMPL = "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl";
  private static final String UNIX_ASYNC_SOCKET_IMPL = "sun.nio.ch.UnixAsynchronousSocketChannelImpl";
  static final List<String> TARGETS = CachedTransformations.TARGETS;

  private Transformations() {}

  /**
   * Installs the transformer and retransforms the targets.
   *
   * @return problems found (types not transformed, errors); empty when all went well
   */
  static List<String> install(Instrumentation instrumentation, Class<?> hooks, Optional<TransformCache> cache)
      throws ReflectiveOperationException {
    Class<?>[] targets = CachedTransformations.targets();
    Advice.WithCustomMapping mapping = hookMapping(hooks);
    Outcome outcome = new Outcome();
    ClassFileTransformer transformer = builder(outcome)
        .type(named(NET))
        .transform(advice(
            mapping.to(NetConnectAdvice.class).on(named("connect")
                .and(takesArguments(ProtocolFamily.class, FileDescriptor.class, InetAddress.class, int.class))),
            mapping.to(ConnectFinishedAdvice.class)
                .on(named("pollConnectNow").and(takesArguments(FileDescriptor.class)))))
        .type(named(NIO_SOCKET_IMPL))
        .transform(advice(
            mapping.to(SocketImplBindAdvice.class).on(named("bind").and(takesArguments(InetAddress.class, int.class))),
            mapping.to(SocketImplAcceptAdvice.class).on(named("accept").and(takesArguments(1))),
            mapping.to(SocketImplLocalAddressAdvice.class).on(named("getOption").and(takesArguments(int.class))),
            mapping.to(SocketImplCloseAdvice.class).on(named("close").and(takesArguments(0)))))
        .type(named(SERVER_SOCKET_CHANNEL_IMPL))
        .transform(advice(
            mapping.to(ServerChannelBindAdvice.class).on(named("netBind").and(takesArgument(0, SocketAddress.class))),
            mapping.to(ServerChannelAcceptAdvice.class, ChannelAcceptedLocalAdvice.class)
                .on(named("finishAccept").and(takesArguments(2))),
            mapping.to(ServerChannelCloseAdvice.class).on(named("implCloseSelectableChannel").and(takesArguments(0)))))
        .type(named(ASYNC_SERVER_IMPL))
        .transform(advice(
            mapping.to(ServerChannelBindAdvice.class, AsyncServerBoundAdvice.class)
                .on(named("bind").and(takesArguments(SocketAddress.class, int.class))),
            mapping.to(ServerChannelCloseAdvice.class).on(named("close").and(takesArguments(0)))))
        .type(named(UNIX_ASYNC_SERVER_IMPL))
        .transform(advice(mapping.to(AsyncServerAcceptAdvice.class, ChannelAcceptedLocalAdvice.class).on(named("finishAccept")
            .and(takesArgument(0, FileDescriptor.class)).and(takesArgument(1, InetSocketAddress.class)))))
        .type(named(UNIX_ASYNC_SOCKET_IMPL))
        .transform(advice(mapping.to(AsyncConnectedAdvice.class).on(named("setConnected").and(takesArguments(0)))))
        .makeRaw();
    Recorder recorder = new Recorder(transformer);
    instrumentation.addTransformer(recorder, true);
    try {
      instrumentation.retransformClasses(targets);
    } catch (Exception | LinkageError e) {
      outcome.errors.add("retransformation failed: " + e);
    }
    List<String> problems = outcome.problems();
    if (problems.isEmpty() && cache.isPresent()) {
      recorder.store(cache.get());
    }
    return problems;
  }

  /**
   * Byte Buddy's transformer, recording what it made of each target from which original bytes, for the {@link
   * TransformCache}. Installed and retransformed here rather than by {@code installOn}, which would hide them; the
   * builder's matchers select only the targets, so this is what {@code installOn} with retransformation did.
   */
  private static final class Recorder implements ClassFileTransformer {
    private final ClassFileTransformer byteBuddy;
    private final Map<String, byte[][]> made = new ConcurrentHashMap<>();

    Recorder(ClassFileTransformer byteBuddy) {
      this.byteBuddy = byteBuddy;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
        ProtectionDomain domain, byte[] original) throws IllegalClassFormatException {
      byte[] transformed = byteBuddy.transform(module, loader, name, redefined, domain, original);
      if (transformed != null && loader == null && name != null) {
        made.put(name.replace('/', '.'), new byte[][] {original.clone(), transformed.clone()});
      }
      return transformed;
    }

    void store(TransformCache cache) {
      for (String target : TARGETS) {
        byte[][] pair = made.get(target);
        if (pair != null) {
          cache.write(cache.key(target, Sha256.digest(pair[0])), pair[1]);
        }
      }
    }
  }

  private static AgentBuilder builder(Outcome outcome) {
    return new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
        .disableClassFormatChanges()
        .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
        .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
        .ignore(not(nameStartsWith("sun.nio.ch.")))
        .with(outcome);
  }

  /** Advice whose {@code @Hook} parameters read the hook class's fields. */
  static Advice.WithCustomMapping hookMapping(Class<?> hooks) throws NoSuchFieldException {
    Advice.WithCustomMapping mapping = Advice.withCustomMapping();
    for (HookPoint point : HookPoint.values()) {
      mapping = bind(mapping, point, hooks);
    }
    return mapping;
  }

  @SuppressWarnings("unchecked")
  private static Advice.WithCustomMapping bind(Advice.WithCustomMapping mapping, HookPoint point, Class<?> hooks)
      throws NoSuchFieldException {
    return mapping.bind((Class<java.lang.annotation.Annotation>) point.annotation(), HookClass.field(hooks, point));
  }

  /** A transformer that applies every one of {@code wrappers} (advice, each on its methods). */
  static AgentBuilder.Transformer advice(AsmVisitorWrapper... wrappers) {
    return (builder, type, loader, module, domain) -> {
      DynamicType.Builder<?> result = builder;
      for (AsmVisitorWrapper wrapper : wrappers) {
        result = result.visit(wrapper);
      }
      return result;
    };
  }

  /** Records which targets were transformed and what failed, so the runtime can report it once. */
  private static final class Outcome extends AgentBuilder.Listener.Adapter {
    private final Set<String> transformed = ConcurrentHashMap.newKeySet();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    @Override
    public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
        DynamicType dynamicType) {
      transformed.add(type.getName());
    }

    @Override
    public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
      errors.add(typeName + ": " + error);
    }

    List<String> problems() {
      List<String> problems = new CopyOnWriteArrayList<>(errors);
      for (String target : TARGETS) {
        if (!transformed.contains(target)) {
          problems.add(target + " was not transformed");
        }
      }
      return problems;
    }
  }
}
