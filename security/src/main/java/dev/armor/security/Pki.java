package dev.armor.security;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster credential on this host: {@code $ARMOR_HOME/pki}, a directory only its user can enter.
 *
 * <pre>
 *   pki/ca.crt                 the cluster's CA certificate: every host has it, it is what a peer must be signed by
 *   pki/ca.key                 the CA's key: only on the host that issues (where the first FTM started)
 *   pki/nodes/NAME.crt, .key   a node's identity (an FTM process is node ftm-HOST)
 *   pki/operator.crt, .key     the CLI's identity: launch, stop, status
 *   pki/reader.crt, .key       a read-only identity: status
 * </pre>
 *
 * Keys are 0600. On the issuing host a missing identity is issued on first use, so the README's commands (an FTM
 * and daemons sharing one {@code ARMOR_HOME}) need no step of their own; another host gets its files with
 * {@code armor enrol}. Creation and issuing hold a file lock, so processes starting together issue each identity once.
 */
public final class Pki {

  private static final Logger log = LoggerFactory.getLogger(Pki.class);
  /** Threads of one JVM serialize here: a file lock is per process, and a second lock from the same JVM throws. */
  private static final Object JVM_LOCK = new Object();

  private final Path root;

  private Pki(Path root) {
    this.root = root;
  }

  /** The credential under {@code armorHome/pki}. */
  public static Pki at(Path armorHome) {
    return new Pki(armorHome.toAbsolutePath().resolve("pki"));
  }

  public Path root() {
    return root;
  }

  public Path caCertificate() {
    return root.resolve("ca.crt");
  }

  private Path caKey() {
    return root.resolve("ca.key");
  }

  /** Whether this host holds the cluster's CA key (and so issues identities on first use). */
  public boolean canIssue() {
    return Files.isRegularFile(caKey());
  }

  public boolean exists() {
    return Files.isRegularFile(caCertificate());
  }

  /**
   * Creates the cluster's CA, and the operator's and reader's credentials, unless this host has a CA already.
   *
   * @return whether it created one
   */
  public boolean initialize() throws IOException {
    return locked(() -> {
      if (exists()) {
        return false;
      }
      String cluster = Long.toHexString(Double.doubleToLongBits(Math.random()) ^ System.nanoTime());
      CertificateAuthority ca = CertificateAuthority.create(cluster);
      writePrivate(caKey(), CertificateAuthority.pem(ca.key()));
      writePublic(caCertificate(), CertificateAuthority.pem(ca.certificate()));
      issue(ca, Identity.OPERATOR, this);
      issue(ca, Identity.READER, this);
      writeTablesKey();
      log.info("created the cluster credential in {}: CA {}, operator and reader certificates", root,
          ca.certificate().getSubjectX500Principal().getName());
      return true;
    });
  }

  /**
   * The credentials of {@code identity} on this host: its files if present, else issued here when this host holds
   * the CA key. Fails, saying how to get them, when neither.
   */
  public Credentials credentials(Identity identity) throws IOException {
    Credentials wanted = files(identity);
    if (Files.isRegularFile(wanted.certificate()) && Files.isRegularFile(wanted.key()) && exists()) {
      return wanted;
    }
    if (!exists()) {
      throw new IOException("no cluster credential in " + root + ": start the FTM on this host first (it creates one),"
          + " or copy this host's credentials from the host that issues them (armor enrol " + enrolArguments(identity)
          + " --out DIR, then DIR's pki/ into " + root + ")");
    }
    if (!canIssue()) {
      throw new IOException("no certificate for " + identity + " in " + root + ", and this host does not hold the"
          + " cluster's CA key: on the host that does, run armor enrol " + enrolArguments(identity)
          + " --out DIR and copy DIR's pki/ into " + root);
    }
    return locked(() -> {
      if (!Files.isRegularFile(wanted.certificate()) || !Files.isRegularFile(wanted.key())) {
        issue(CertificateAuthority.load(caCertificate(), caKey()), identity, this);
        log.info("issued a certificate for {} in {}", identity, root);
      }
      return wanted;
    });
  }

  /**
   * The credentials a person's command uses here (the CLI): the operator's if this host has them, else the reader's.
   * Never issued on the fly: a host gets a person's certificate from whoever holds the CA ({@code armor enrol}).
   */
  public Credentials person() throws IOException {
    for (Identity identity : new Identity[] {Identity.OPERATOR, Identity.READER}) {
      Credentials files = files(identity);
      if (exists() && Files.isRegularFile(files.certificate()) && Files.isRegularFile(files.key())) {
        return files;
      }
    }
    throw new IOException("no operator or reader certificate in " + root + ": the host where the first FTM started has"
        + " them; elsewhere, on that host run armor enrol --operator (or --reader) --out DIR and copy DIR's pki/ into "
        + root);
  }

  /**
   * Issues {@code identity} anew (a new key; its old certificate stays valid until it expires) into {@code other}:
   * this host's CA certificate and the identity's files, for another host or to rotate one here.
   */
  public Credentials enrol(Identity identity, Pki other) throws IOException {
    if (!canIssue()) {
      throw new IOException("this host does not hold the cluster's CA key (" + caKey() + "): enrol on the host that does");
    }
    return locked(() -> {
      CertificateAuthority ca = CertificateAuthority.load(caCertificate(), caKey());
      if (!other.root.equals(root)) {
        other.writePublic(other.caCertificate(), CertificateAuthority.pem(ca.certificate()));
      }
      issue(ca, identity, other);
      log.info("issued a certificate for {} into {}", identity, other.root);
      return other.files(identity);
    });
  }

  /**
   * The seal of the FTM's replicated rows ({@link TableSeal}), from this host's tables key. Made on first use where the
   * CA key is (a cluster created before the key existed gets it then); elsewhere it comes with {@code armor enrol
   * --node NAME --ftm-capable}. Only nodes that may host the FTM need it.
   */
  public TableSeal tableSeal() throws IOException {
    if (!Files.isRegularFile(tablesKey())) {
      if (!canIssue()) {
        throw new IOException("no tables key (" + tablesKey() + "): a node that may host the FTM needs it; on the host"
            + " that holds the cluster's CA run armor enrol --node NAME --ftm-capable --out DIR and copy DIR's pki/"
            + " into " + root);
      }
      locked(() -> {
        if (!Files.isRegularFile(tablesKey())) {
          writeTablesKey();
        }
        return null;
      });
    }
    byte[] key = Base64.getDecoder().decode(Files.readString(tablesKey()).trim());
    try {
      return TableSeal.of(key);
    } catch (IllegalArgumentException e) {
      throw new IOException(tablesKey() + " holds no tables key: " + e.getMessage(), e);
    }
  }

  /** Copies this host's tables key into {@code other} (enrolling a node that may host the FTM). */
  public void enrolTablesKey(Pki other) throws IOException {
    tableSeal(); // made here first if this host issues and has none yet
    if (!other.root.equals(root)) {
      other.writePrivate(other.tablesKey(), Files.readString(tablesKey()));
    }
  }

  private Path tablesKey() {
    return root.resolve("tables.key");
  }

  private void writeTablesKey() throws IOException {
    byte[] key = new byte[TableSeal.KEY_BYTES];
    new java.security.SecureRandom().nextBytes(key);
    writePrivate(tablesKey(), Base64.getEncoder().encodeToString(key) + "\n");
    log.info("made the cluster's tables key in {}", tablesKey());
  }

  /** The CA certificate this host trusts. */
  public X509Certificate trusted() throws IOException {
    try {
      return CertificateAuthority.readCertificate(caCertificate());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the cluster's CA certificate " + caCertificate() + ": " + e.getMessage(), e);
    }
  }

  /** Where {@code identity}'s files are (or would be) on this host. */
  Credentials files(Identity identity) {
    Path dir = identity.role() == Role.NODE ? root.resolve("nodes") : root;
    String base = switch (identity.role()) {
      case NODE -> identity.name();
      case OPERATOR -> "operator";
      case READER -> "reader";
    };
    return new Credentials(identity, dir.resolve(base + ".crt"), dir.resolve(base + ".key"), caCertificate());
  }

  private static String enrolArguments(Identity identity) {
    return identity.role() == Role.NODE ? "--node " + identity.name() : "--" + identity.role();
  }

  private static void issue(CertificateAuthority ca, Identity identity, Pki into) throws IOException, GeneralSecurityException {
    CertificateAuthority.Issued issued = ca.issue(identity);
    Credentials files = into.files(identity);
    into.writePrivate(files.key(), CertificateAuthority.pem(issued.key()));
    into.writePublic(files.certificate(), CertificateAuthority.pem(issued.certificate()));
  }

  private void writePrivate(Path file, String content) throws IOException {
    write(file, content, "rw-------");
  }

  private void writePublic(Path file, String content) throws IOException {
    write(file, content, "rw-r--r--");
  }

  /** Written aside, then renamed: a reader (Pekko re-reads the files to pick up a rotation) never sees half a file. */
  private void write(Path file, String content, String permissions) throws IOException {
    privateDirectory(file.getParent());
    Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(temp, content);
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString(permissions));
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void privateDirectory(Path dir) throws IOException {
    for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
      if (!Files.isDirectory(d)) {
        Files.createDirectories(d);
      }
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
    }
  }

  private interface Locked<T> {
    T run() throws IOException, GeneralSecurityException;
  }

  private <T> T locked(Locked<T> action) throws IOException {
    synchronized (JVM_LOCK) {
      privateDirectory(root);
      try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = lockFile.lock()) {
        return action.run();
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot make the cluster credential in " + root + ": " + e.getMessage(), e);
      }
    }
  }
}
