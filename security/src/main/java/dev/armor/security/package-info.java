/**
 * The cluster credential: one certificate authority per cluster, a certificate per node (its name is the node's
 * identity), and certificates for the people who drive the cluster (the operator, and a read-only reader).
 *
 * <p>{@link dev.armor.security.Pki} is the layout under {@code $ARMOR_HOME/pki} and creates what is missing;
 * {@link dev.armor.security.Credentials} turns one identity into mutual-TLS credentials for gRPC, and into a TLS
 * context for the other channels (the cluster transport); {@link dev.armor.security.ControlAccess} checks a control
 * call's role. Peers are trusted for the certificate the cluster's CA signed and the role written
 * in it, never for their address or host name. docs/SECURITY.md is the operator's view.
 */
package dev.armor.security;
