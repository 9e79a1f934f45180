package dev.armor.shim.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Optional;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The directory of transformed JDK classes that lets later starts skip Byte Buddy (see {@link CachedTransformations}).
 * An entry is the class file Byte Buddy made from one original class file, stored under the SHA-256 of its key:
 * the JDK ({@code java.vm.vendor}, {@code java.runtime.version}, {@code java.home}), the agent build (a digest of
 * the name, CRC-32 and size of every entry of the agent jar's runtime directory, Byte Buddy included), the class
 * name and the SHA-256 of the original bytes the JVM handed the transformer. The file repeats its key and ends with
 * a digest of key and content, so a corrupted, truncated or misplaced file reads as missing.
 *
 * <p>Only a directory owned by this process's user and writable by nobody else is used (its content is inlined into
 * {@code java.base}); anything else, or any I/O error, means "run uncached", silently. Writes go to a temporary file
 * in the same directory, then an atomic rename: JVMs starting together may race, but each entry they write holds
 * the same bytes and a reader sees a whole file or none.
 */
final class TransformCache {
  static final String DEFAULT_DIR_NAME = "shim-cache";
  private static final int MAGIC = 0x41524d31; // "ARM1"
  private static final Set<PosixFilePermission> GROUP_OR_OTHERS_WRITE =
      Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

  private final Path dir;
  private final String prefix;

  TransformCache(Path dir, String jdkIdentity, String agentIdentity) {
    this.dir = dir;
    this.prefix = jdkIdentity + "\n" + agentIdentity + "\n";
  }

  /** The cache configured for this JVM, or empty when it is off or unusable. Never throws. */
  static Optional<TransformCache> open(ShimConfig config, URL runtimeLocation) {
    try {
      Optional<Path> dir = config.cacheDir();
      if (dir.isEmpty() || !usableDir(dir.get())) {
        return Optional.empty();
      }
      return Optional.of(new TransformCache(dir.get(), jdkIdentity(), agentIdentity(runtimeLocation)));
    } catch (Exception | LinkageError e) {
      return Optional.empty();
    }
  }

  static String jdkIdentity() {
    return System.getProperty("java.vm.vendor") + "|" + System.getProperty("java.runtime.version") + "|"
        + System.getProperty("java.home");
  }

  /** The digest of the agent jar's runtime directory, read from the jar's central directory (nothing inflated). */
  static String agentIdentity(URL runtimeLocation) throws IOException {
    String location = runtimeLocation.toString();
    int bang = location.indexOf("!/");
    if (!location.startsWith("jar:") || bang < 0) {
      throw new IOException("the shim runtime is not in a jar: " + location);
    }
    String inJar = location.substring(bang + 2);
    ByteArrayOutputStream listing = new ByteArrayOutputStream(1 << 16);
    DataOutputStream out = new DataOutputStream(listing);
    try (ZipFile jar = new ZipFile(Path.of(URI.create(location.substring(4, bang))).toFile())) {
      for (Enumeration<? extends ZipEntry> entries = jar.entries(); entries.hasMoreElements(); ) {
        ZipEntry entry = entries.nextElement();
        if (entry.getName().startsWith(inJar)) {
          out.writeUTF(entry.getName());
          out.writeLong(entry.getCrc());
          out.writeLong(entry.getSize());
        }
      }
    }
    return Sha256.hex(Sha256.digest(listing.toByteArray()));
  }

  private static boolean usableDir(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (IOException e) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) { // else another JVM created it meanwhile
          return false;
        }
      }
    }
    PosixFileAttributes attributes = Files.getFileAttributeView(dir, PosixFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS).readAttributes();
    return attributes.owner().getName().equals(System.getProperty("user.name"))
        && attributes.permissions().stream().noneMatch(GROUP_OR_OTHERS_WRITE::contains)
        && Files.isWritable(dir);
  }

  String key(String className, byte[] originalDigest) {
    return prefix + className + "\n" + Sha256.hex(originalDigest);
  }

  private Path file(String key) {
    return dir.resolve(Sha256.hex(Sha256.digest(key.getBytes(StandardCharsets.UTF_8))) + ".class");
  }

  /** The transformed class stored under {@code key}, or null when missing, unreadable or not intact. */
  byte[] read(String key) {
    try {
      byte[] file = Files.readAllBytes(file(key));
      if (file.length < 32) {
        return null;
      }
      byte[] body = Arrays.copyOf(file, file.length - 32);
      if (!Arrays.equals(Sha256.digest(body), Arrays.copyOfRange(file, file.length - 32, file.length))) {
        return null;
      }
      DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
      if (in.readInt() != MAGIC || !in.readUTF().equals(key)) {
        return null;
      }
      byte[] transformed = new byte[in.readInt()];
      in.readFully(transformed);
      return in.available() == 0 ? transformed : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Stores {@code transformed} under {@code key}; failures are ignored (the next start just runs uncached). */
  void write(String key, byte[] transformed) {
    Path temp = null;
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(transformed.length + 512);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(MAGIC);
      out.writeUTF(key);
      out.writeInt(transformed.length);
      out.write(transformed);
      out.write(Sha256.digest(bytes.toByteArray()));
      temp = Files.createTempFile(dir, ".entry-", ".tmp");
      Files.write(temp, bytes.toByteArray());
      Files.move(temp, file(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temp = null;
    } catch (IOException | RuntimeException e) {
      // uncached next time
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          // left behind: a stray temporary file is never read
        }
      }
    }
  }

  Path dir() {
    return dir;
  }

}
