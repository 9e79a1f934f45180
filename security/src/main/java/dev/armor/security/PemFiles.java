package dev.armor.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * Reads the private keys {@link Pki} writes (unencrypted PKCS#8 PEM, EC) with the JDK alone, on every process's
 * start; Bouncy Castle is needed only to make certificates.
 */
final class PemFiles {

  private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String END = "-----END PRIVATE KEY-----";

  private PemFiles() {}

  static PrivateKey privateKey(Path file) throws IOException {
    String pem = Files.readString(file);
    int begin = pem.indexOf(BEGIN);
    int end = pem.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IOException(file + " holds no PKCS#8 private key (" + BEGIN + ")");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + BEGIN.length(), end));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    try {
      return KeyFactory.getInstance("EC").generatePrivate(spec);
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " holds no EC private key: " + e.getMessage(), e);
    }
  }
}
