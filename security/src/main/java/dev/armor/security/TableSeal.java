package dev.armor.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals what the FTM keeps in the cluster's replicated tables for its own eyes (the launch environments, which may
 * carry secrets): every member holds a replica of those tables, and only the nodes that may host the FTM hold the
 * cluster's tables key ({@link Pki#tableSeal}). AES-256-GCM from the JDK; each sealed value is bound to the row it
 * belongs to (its associated data), so a member that swaps two rows' values makes both fail to open.
 *
 * <p>Layout: a version byte (1), a fresh 12-byte nonce, the ciphertext with its 16-byte tag.
 */
public final class TableSeal {

  static final int KEY_BYTES = 32;
  private static final byte VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKey key;
  private final SecureRandom random = new SecureRandom();

  private TableSeal(SecretKey key) {
    this.key = key;
  }

  /** A seal with {@code key} (32 bytes). */
  public static TableSeal of(byte[] key) {
    if (key.length != KEY_BYTES) {
      throw new IllegalArgumentException("a tables key is " + KEY_BYTES + " bytes, not " + key.length);
    }
    return new TableSeal(new SecretKeySpec(key, "AES"));
  }

  /** {@code plain} sealed for the row {@code row}. */
  public byte[] seal(byte[] plain, String row) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(row.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plain);
      return ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length).put(VERSION).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot seal with AES-GCM: " + e.getMessage(), e);
    }
  }

  /**
   * What {@link #seal} sealed for {@code row}; an IOException when it was sealed with another key, for another row,
   * or altered.
   */
  public byte[] open(byte[] sealed, String row) throws IOException {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
      throw new IOException("not a sealed value of this version (" + sealed.length + " bytes)");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 1, NONCE_BYTES));
      cipher.updateAAD(row.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot open a sealed value of " + row + ": sealed with another cluster's tables key, for"
          + " another row, or altered (" + e.getClass().getSimpleName() + ")", e);
    }
  }
}
