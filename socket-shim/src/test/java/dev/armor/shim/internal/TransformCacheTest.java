package dev.armor.shim.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformCacheTest {
  @TempDir Path dir;

  @Test
  void sha256_matchesMessageDigest_atEveryPaddingBoundary() throws Exception {
    Random random = new Random(7);
    for (int length = 0; length < 300; length++) {
      byte[] data = new byte[length];
      random.nextBytes(data);
      assertThat(Sha256.digest(data)).as("length %d", length).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
    }
    byte[] large = new byte[100_003];
    random.nextBytes(large);
    assertThat(Sha256.digest(large)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(large));
    assertThat(Sha256.hex(Sha256.digest("abc".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void writtenEntry_readsBack_underItsKeyOnly() {
    TransformCache cache = new TransformCache(dir, "jdk-a", "agent-1");
    byte[] original = Sha256.digest(new byte[] {1, 2, 3});
    String key = cache.key("sun.nio.ch.Net", original);
    cache.write(key, new byte[] {9, 8, 7});

    assertThat(cache.read(key)).containsExactly(9, 8, 7);
    assertThat(cache.read(cache.key("sun.nio.ch.Net", Sha256.digest(new byte[] {1, 2, 4})))).isNull();
    assertThat(new TransformCache(dir, "jdk-b", "agent-1").read(new TransformCache(dir, "jdk-b", "agent-1")
        .key("sun.nio.ch.Net", original))).isNull();
    assertThat(new TransformCache(dir, "jdk-a", "agent-2").read(new TransformCache(dir, "jdk-a", "agent-2")
        .key("sun.nio.ch.Net", original))).isNull();
  }

  @Test
  void anEntryOfAnotherJdk_filedUnderThisJdksName_isRejected() throws Exception {
    TransformCache other = new TransformCache(dir.resolve("other"), "fake-jdk", "agent-1");
    Files.createDirectories(dir.resolve("other"));
    TransformCache mine = new TransformCache(dir, "jdk-a", "agent-1");
    byte[] original = Sha256.digest(new byte[] {1});
    other.write(other.key("sun.nio.ch.Net", original), new byte[] {5});
    mine.write(mine.key("sun.nio.ch.Net", original), new byte[] {6});
    Path mineFile = onlyEntry(dir);
    Files.copy(onlyEntry(dir.resolve("other")), mineFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThat(mine.read(mine.key("sun.nio.ch.Net", original))).isNull();
  }

  @Test
  void corruptedOrTruncatedEntries_readAsMissing() throws Exception {
    TransformCache cache = new TransformCache(dir, "jdk-a", "agent-1");
    String key = cache.key("sun.nio.ch.Net", Sha256.digest(new byte[0]));
    cache.write(key, new byte[100]);
    Path file = onlyEntry(dir);
    byte[] good = Files.readAllBytes(file);

    byte[] flipped = good.clone();
    flipped[50] ^= 1;
    Files.write(file, flipped);
    assertThat(cache.read(key)).isNull();
    Files.write(file, Arrays.copyOf(good, good.length - 1));
    assertThat(cache.read(key)).isNull();
    Files.write(file, new byte[0]);
    assertThat(cache.read(key)).isNull();
    Files.write(file, good);
    assertThat(cache.read(key)).hasSize(100);
  }

  @Test
  void hookClassBytes_defineTheHookFields() throws Exception {
    byte[] bytes = HookClass.bytes();
    Class<?> hooks = new ClassLoader(null) {
      Class<?> define() {
        return defineClass(HookClass.NAME, bytes, 0, bytes.length);
      }
    }.define();

    assertThat(Modifier.isPublic(hooks.getModifiers()) && Modifier.isFinal(hooks.getModifiers())).isTrue();
    assertThat(hooks.getDeclaredMethods()).isEmpty();
    assertThat(hooks.getDeclaredFields()).hasSize(HookPoint.values().length);
    for (HookPoint point : HookPoint.values()) {
      Field field = HookClass.field(hooks, point);
      assertThat(field.getType()).isEqualTo(MethodHandle.class);
      assertThat(field.getModifiers()).isEqualTo(Modifier.PUBLIC | Modifier.STATIC | Modifier.VOLATILE);
    }
  }

  private static Path onlyEntry(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".class")).findFirst().orElseThrow();
    }
  }
}
