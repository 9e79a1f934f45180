package dev.armor.shim.internal;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fast start: replays from the {@link TransformCache} what Byte Buddy made of the targets in an earlier JVM on
 * the same JDK with the same agent build, without loading a single Byte Buddy class (Byte Buddy is ~1,300 classes
 * and the advice computation; this class and the cache use the JDK only).
 *
 * <p>Steps: (1) a retransformation that changes nothing captures the bytes the JVM hands a transformer for each
 * target (the JVM reconstitutes them; they differ from the jimage's and between CDS on and off, so they cannot be
 * predicted); (2) every target must have an intact entry for exactly those bytes, else nothing is retransformed and
 * the caller runs Byte Buddy; (3) a plain transformer returning the cached bytes for those exact originals is
 * installed (for good: a later retransformation by anyone gets the same result) and the targets are retransformed.
 * Step 3 checks the digest again; if any target was not replayed, the transformer is removed and the caller's
 * Byte Buddy run retransforms all targets from their originals.
 *
 * <p>Measured on the shared, loaded 2-core machine, median of 5, {@code ProbeApp} with no command, daemon absent
 * (seconds wall / CPU user+sys):
 * <pre>
 *               no agent      agent, cache=off   agent, cached
 *   JDK 17      0.04 / 0.04   1.01 / 1.67        0.30 / 0.46
 *   JDK 25      0.04 / 0.04   1.84 / 1.60        0.73 / 0.52   (one of the 5 cached runs missed: 2.35 s)
 * </pre>
 * Misses happen because HotSpot's reconstituted class file lists methods in an order that can vary between runs
 * (seen on both JDKs); each variant met is cached under its own digest, so misses become rarer as the cache fills.
 */
final class CachedTransformations {
  /** The JDK classes the shim instruments (see {@link Transformations}); here, as that class needs Byte Buddy. */
  static final List<String> TARGETS =
      List.of("sun.nio.ch.Net", "sun.nio.ch.NioSocketImpl", "sun.nio.ch.ServerSocketChannelImpl",
          "sun.nio.ch.AsynchronousServerSocketChannelImpl", "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl",
          "sun.nio.ch.UnixAsynchronousSocketChannelImpl");

  private CachedTransformations() {}

  /** Tries the cached instrumentation; true when every target now carries its cached transformation. */
  static boolean tryInstall(Instrumentation instrumentation, TransformCache cache) {
    try {
      Class<?>[] targets = targets();
      Map<String, byte[]> originals = capture(instrumentation, targets);
      Map<String, Entry> entries = new HashMap<>();
      for (String target : TARGETS) {
        byte[] original = originals.get(internalName(target));
        if (original == null) {
          return false;
        }
        byte[] digest = Sha256.digest(original);
        byte[] transformed = cache.read(cache.key(target, digest));
        if (transformed == null) {
          return false;
        }
        entries.put(internalName(target), new Entry(digest, transformed));
      }
      Replay replay = new Replay(entries);
      instrumentation.addTransformer(replay, true);
      try {
        instrumentation.retransformClasses(targets);
      } catch (Exception | LinkageError e) {
        instrumentation.removeTransformer(replay);
        return false;
      }
      if (!replay.replayed.equals(entries.keySet())) {
        instrumentation.removeTransformer(replay);
        return false;
      }
      return true;
    } catch (Exception | LinkageError e) {
      return false;
    }
  }

  static Class<?>[] targets() throws ClassNotFoundException {
    List<String> names = TARGETS;
    Class<?>[] targets = new Class<?>[names.size()];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = JdkInternals.bootClass(names.get(i));
    }
    return targets;
  }

  static String internalName(String className) {
    return className.replace('.', '/');
  }

  private static Map<String, byte[]> capture(Instrumentation instrumentation, Class<?>[] targets)
      throws Exception {
    Map<String, byte[]> captured = new ConcurrentHashMap<>();
    Set<String> wanted = new HashSet<>();
    for (String target : TARGETS) {
      wanted.add(internalName(target));
    }
    ClassFileTransformer capture = new ClassFileTransformer() {
      @Override
      public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
          ProtectionDomain domain, byte[] original) {
        if (loader == null && wanted.contains(name)) {
          captured.put(name, original.clone());
        }
        return null;
      }
    };
    instrumentation.addTransformer(capture, true);
    try {
      instrumentation.retransformClasses(targets);
    } finally {
      instrumentation.removeTransformer(capture);
    }
    return captured;
  }

  private record Entry(byte[] originalDigest, byte[] transformed) {}

  /** Hands the cached class file for a target whose original bytes have the recorded digest; else no change. */
  private static final class Replay implements ClassFileTransformer {
    private final Map<String, Entry> entries;
    final Set<String> replayed = ConcurrentHashMap.newKeySet();

    Replay(Map<String, Entry> entries) {
      this.entries = entries;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
        ProtectionDomain domain, byte[] original) {
      Entry entry = loader == null ? entries.get(name) : null;
      if (entry == null || !Arrays.equals(Sha256.digest(original), entry.originalDigest())) {
        return null;
      }
      replayed.add(name);
      return entry.transformed().clone();
    }
  }
}
