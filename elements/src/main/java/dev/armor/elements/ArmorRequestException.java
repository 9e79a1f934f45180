package dev.armor.elements;

/** A request to an ARMOR was answered with an error; the message says what the ARMOR found. */
public final class ArmorRequestException extends RuntimeException {
  public ArmorRequestException(String message) {
    super(message);
  }
}
