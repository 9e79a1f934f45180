package dev.armor.shim.internal;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells the app, once, when it loads one of Netty's native transports (its own copy or a shaded one): the shim
 * turned them off ({@code io.netty.transport.noNative=true}) because it cannot reroute their sockets. An app that
 * lets Netty choose gets NIO and is protected; an app that requires epoll fails with Netty's own error, and this line
 * says why. Changes no class: a name check per class loaded.
 */
final class NettyNativeNotice implements ClassFileTransformer {
  private static final String[] NATIVE_ENTRY_CLASSES = {
    "/channel/epoll/Epoll", "/channel/uring/IoUring", "/incubator/channel/uring/IOUring", "/channel/kqueue/KQueue"
  };
  private final AtomicBoolean told = new AtomicBoolean();

  @Override
  public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
      byte[] classfile) {
    if (className != null && !told.get() && className.contains("netty/") && isNativeEntry(className)
        && told.compareAndSet(false, true)) {
      System.err.println("Armor: this app loads Netty's native transport " + className.replace('/', '.')
          + ", which the Armor shim turned off in this JVM (io.netty.transport.noNative=true): its sockets could not"
          + " be rerouted, so a server listening through it would be neither protected nor registered. Netty uses"
          + " NIO instead where the app lets it choose; an app that requires this transport fails at this point"
          + " with Netty's error \"Native transport was explicit disabled\"");
    }
    return null;
  }

  private static boolean isNativeEntry(String className) {
    for (String entry : NATIVE_ENTRY_CLASSES) {
      if (className.endsWith(entry)) {
        return true;
      }
    }
    return false;
  }
}
