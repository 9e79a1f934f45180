package dev.armor.shim.internal;

import java.lang.System.Logger.Level;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;

/**
 * Inlines the Netty advice into {@code io.netty.channel.unix.Socket} and {@code FileDescriptor} (and any shaded
 * copy: gRPC's {@code io.grpc.netty.shaded.io.netty...}) as the app loads them: see {@link NettyInterceptor}.
 *
 * <p>Two costs kept off every other app: the transformer is a name check per class loaded, and Byte Buddy is set up
 * only when a Netty native socket class actually loads (the JDK's own classes are often instrumented from the
 * {@link TransformCache} without loading Byte Buddy at all): no Byte Buddy type appears in this class, whose
 * verification would load them; {@link NettyInstrumentation} holds them. The advice reads its hooks from {@code
 * sun.nio.ch.ArmorShimHooks}, in a package {@code java.base} does not export: the module of each class
 * instrumented is given access to it (and to nothing else) before the class is defined.
 */
final class NettyTransformer implements ClassFileTransformer {
  static final String SOCKET = "netty/channel/unix/Socket";
  static final String FILE_DESCRIPTOR = "netty/channel/unix/FileDescriptor";
  private static final String HOOKS_PACKAGE = "sun.nio.ch";

  private final Instrumentation instrumentation;
  private final Class<?> hooks;
  private volatile ClassFileTransformer byteBuddy; // made on first use

  NettyTransformer(Instrumentation instrumentation, Class<?> hooks) {
    this.instrumentation = instrumentation;
    this.hooks = hooks;
  }

  @Override
  public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
      ProtectionDomain domain, byte[] classfile) {
    if (className == null || redefined != null || !(className.endsWith(SOCKET) || className.endsWith(FILE_DESCRIPTOR))) {
      return null;
    }
    try {
      Module target = module != null ? module : loader != null ? loader.getUnnamedModule() : null;
      if (target != null && !Object.class.getModule().isExported(HOOKS_PACKAGE, target)) {
        instrumentation.redefineModule(Object.class.getModule(), Set.of(), Map.of(HOOKS_PACKAGE, Set.of(target)),
            Map.of(), Set.of(), Map.of());
      }
      return transformer().transform(module, loader, className, null, domain, classfile);
    } catch (Exception | LinkageError e) {
      Log.get().log(Level.ERROR, "the Armor socket shim could not instrument " + className.replace('/', '.')
          + ": the sockets of Netty's native transport are NOT rerouted through Armor in this JVM (" + e + ")");
      return null;
    }
  }

  private ClassFileTransformer transformer() throws Exception {
    ClassFileTransformer made = byteBuddy;
    if (made == null) {
      synchronized (this) {
        made = byteBuddy;
        if (made == null) {
          made = ShimRuntime.withoutNexus(() -> NettyInstrumentation.transformer(hooks));
          byteBuddy = made;
        }
      }
    }
    return made;
  }
}
