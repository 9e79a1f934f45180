package dev.armor.security;

import java.util.Arrays;
import java.util.Optional;

/**
 * What a certificate lets its holder do; written in the certificate's organizational unit ({@code OU}).
 *
 * <p>Only {@link #NODE} certificates join the cluster (the cluster transport accepts no other role); the control API
 * takes all three roles, each for its own calls.
 */
public enum Role {
  /** An FTM or daemon: joins the cluster, asks the control API where the cluster is. */
  NODE("armor-node"),
  /** Whoever drives the cluster: launches, stops, status, agent options. */
  OPERATOR("armor-operator"),
  /** Status only. */
  READER("armor-reader");

  /**
   * The subject alternative name every node certificate carries and no other does: a node certificate is known as
   * one by its OU and this name together, so a certificate made for some other use by the same CA is not a node's.
   */
  public static final String NODE_MARKER = "armor-node.cluster";

  private final String unit;

  Role(String unit) {
    this.unit = unit;
  }

  /** The certificate's organizational unit for this role. */
  public String unit() {
    return unit;
  }

  /** The role an organizational unit names, if any. */
  public static Optional<Role> ofUnit(String unit) {
    return Arrays.stream(values()).filter(r -> r.unit.equals(unit)).findFirst();
  }

  /** The word an operator reads: node, operator, reader. */
  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
