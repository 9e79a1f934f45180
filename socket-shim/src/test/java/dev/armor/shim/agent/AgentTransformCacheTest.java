package dev.armor.shim.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.shim.control.ShimRequestHandler.Route;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cache of transformed JDK classes: the first start fills it with Byte Buddy, later starts on the same JDK replay
 * it without loading any Byte Buddy class (checked in the child's class-load log), and anything unexpected falls
 * back to Byte Buddy. Each run checks that connects, binds and accepts are still rerouted.
 */
class AgentTransformCacheTest extends AgentTestSupport {
  /**
   * One per transformed JDK class: Net, NioSocketImpl, ServerSocketChannelImpl, the two asynchronous servers' and the
   * asynchronous socket channel's.
   */
  private static final int ENTRIES_PER_JDK = 6;

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void firstStart_fillsTheCache_secondStart_usesItWithoutByteBuddy(Jdk jdk) throws Exception {
    assertThat(runRerouted(jdk, agentArgs(), "first")).as("first start").isTrue();
    assertThat(entries(defaultCache())).hasSize(ENTRIES_PER_JDK);
    assertThat(Files.getPosixFilePermissions(defaultCache())).isEqualTo(PosixFilePermissions.fromString("rwx------"));

    assertThat(aLaterStartSkipsByteBuddy(jdk, agentArgs(), "second")).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aCorruptedEntry_fallsBackToByteBuddy_andIsRewritten(Jdk jdk) throws Exception {
    runRerouted(jdk, agentArgs(), "fill");
    for (Path entry : entries(defaultCache())) {
      byte[] bytes = Files.readAllBytes(entry);
      bytes[bytes.length / 2] ^= 0x5a;
      Files.write(entry, bytes);
      break;
    }

    assertThat(runRerouted(jdk, agentArgs(), "corrupted")).as("start with a corrupted entry").isTrue();
    assertThat(aLaterStartSkipsByteBuddy(jdk, agentArgs(), "repaired")).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void truncatedEntries_fallBackToByteBuddy(Jdk jdk) throws Exception {
    runRerouted(jdk, agentArgs(), "fill");
    for (Path entry : entries(defaultCache())) {
      Files.write(entry, new byte[0]);
    }

    assertThat(runRerouted(jdk, agentArgs(), "truncated")).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aCacheOfAnotherJdk_isNotUsed_andBothJdksThenHaveTheirOwn(Jdk jdk) throws Exception {
    Jdk other = jdk == Jdk.JDK_17 ? Jdk.JDK_25 : Jdk.JDK_17;
    runRerouted(other, agentArgs(), "other JDK");

    assertThat(runRerouted(jdk, agentArgs(), "this JDK, other's cache")).isTrue();
    assertThat(entries(defaultCache())).hasSizeGreaterThanOrEqualTo(2 * ENTRIES_PER_JDK);
    assertThat(aLaterStartSkipsByteBuddy(jdk, agentArgs(), "this JDK, own cache")).isTrue();
    assertThat(aLaterStartSkipsByteBuddy(other, agentArgs(), "other JDK, own cache")).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void cacheOff_writesNothing_andStillReroutes(Jdk jdk) throws Exception {
    assertThat(runRerouted(jdk, agentArgs() + ",cache=off", "off")).isTrue();
    assertThat(runRerouted(jdk, agentArgs() + ",cache=off", "off again")).isTrue();
    assertThat(defaultCache()).doesNotExist();
  }

  @ParameterizedTest
  @EnumSource(Jdk.class)
  void aCacheDirectoryOthersCanWrite_orNotWritable_isIgnoredSilently(Jdk jdk) throws Exception {
    Path shared = Files.createDirectories(tempDir.resolve("shared-cache"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(runRerouted(jdk, agentArgs() + ",cache=" + shared, "shared")).isTrue();
    assertThat(entries(shared)).isEmpty();

    if (System.getProperty("user.name").equals("root")) {
      return; // root writes into a read-only directory anyway
    }
    Path readOnly = Files.createDirectories(tempDir.resolve("read-only-cache"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-x------"));
    assertThat(runRerouted(jdk, agentArgs() + ",cache=" + readOnly, "read-only")).isTrue();
    assertThat(entries(readOnly)).isEmpty();
  }

  /**
   * Whether one of a few further starts replays the cache without Byte Buddy (each start asserting rerouting). Not
   * necessarily the very next one: the class file HotSpot reconstitutes for a retransformation lists methods in an
   * order that can vary between JVM runs, so a start can meet a variant not cached yet; it then caches it too.
   */
  private boolean aLaterStartSkipsByteBuddy(Jdk jdk, String agentArgs, String what) throws Exception {
    for (int attempt = 1; attempt <= 4; attempt++) {
      if (!runRerouted(jdk, agentArgs, what + " #" + attempt)) {
        return true;
      }
    }
    return false;
  }

  private Path defaultCache() {
    return daemon.socket().getParent().resolve("shim-cache");
  }

  private static List<Path> entries(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(file -> file.getFileName().toString().endsWith(".class")).sorted().toList();
    }
  }

  private int runs;

  /**
   * Runs the probe app with {@code agentArgs}: a rerouted connect, a socket bind and a channel bind; asserts all were
   * rerouted and nothing was printed on stderr.
   *
   * @return whether the child loaded any Byte Buddy class
   */
  private boolean runRerouted(Jdk jdk, String agentArgs, String what) throws Exception {
    int run = ++runs;
    daemon.routes.put(new InetSocketAddress("127.0.0.3", 4600 + run), new Route.Via(relay.port()));
    Path classLog = tempDir.resolve("classes-" + run + ".log");
    try (ChildJvm app = ChildJvm.start(jdk, agentArgs, List.of("-Xlog:class+load=info:file=" + classLog),
        List.of(), Map.of(), "socket:127.0.0.3:" + (4600 + run), "serve-socket:0.0.0.0:" + (17100 + run),
        "serve-channel:0.0.0.0:" + (17200 + run), "serve-async:0.0.0.0:" + (17300 + run), "close-servers")) {
      assertThat(app.awaitExit()).as(what + "\n" + app.describe()).isZero();
      assertThat(result(app, "socket")).as(what).endsWith("reply=relay:ping");
      assertThat(result(app, "serve-socket")).as(what).startsWith("OK serve-socket localPort=" + (17100 + run) + " ");
      assertThat(result(app, "serve-channel")).as(what).contains(" localPort=" + (17200 + run));
      assertThat(result(app, "serve-async")).as(what).isEqualTo("OK serve-async local=/0.0.0.0:" + (17300 + run));
      assertThat(relay.accepted()).as(what).isEqualTo(run);
      assertThat(daemon.listening).as(what).hasSize(3 * run);
      assertSilent(app);
    }
    try (Stream<String> lines = Files.lines(classLog)) {
      return lines.anyMatch(line -> line.contains(" net.bytebuddy."));
    }
  }
}
