package dev.armor.security;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who a certificate says its holder is: a name (a node's name, or {@code armor operator}) and a {@link Role}.
 *
 * @param name the certificate's common name ({@code CN})
 * @param role what the holder may do
 */
public record Identity(String name, Role role) {

  /** Human identities have a space in their name, which no node name may have: the two never collide. */
  public static final Identity OPERATOR = new Identity("armor operator", Role.OPERATOR);
  public static final Identity READER = new Identity("armor reader", Role.READER);

  public Identity {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("an identity needs a name");
    }
    if (role == Role.NODE && !name.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new IllegalArgumentException("a node's name must be 1-64 letters, digits, '.', '_' or '-', but was '" + name + "'");
    }
  }

  public static Identity node(String name) {
    return new Identity(name, Role.NODE);
  }

  /**
   * The identity in a certificate the cluster's CA signed (the caller has checked the signature): its CN and the
   * role its OU names; empty when either is missing or a node certificate lacks {@link Role#NODE_MARKER}.
   */
  public static Optional<Identity> of(X509Certificate certificate) {
    String cn = null;
    String ou = null;
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = rdn.getValue().toString();
        } else if (rdn.getType().equalsIgnoreCase("OU")) {
          ou = rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
    Optional<Role> role = ou == null ? Optional.empty() : Role.ofUnit(ou);
    if (cn == null || role.isEmpty()) {
      return Optional.empty();
    }
    if (role.get() == Role.NODE && !hasNodeMarker(certificate)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Identity(cn, role.get()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The identity in the certificate a TLS peer showed, if the session has one and it names an Armor role. */
  public static Optional<Identity> ofPeer(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? of(x509) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  private static boolean hasNodeMarker(X509Certificate certificate) {
    try {
      var names = certificate.getSubjectAlternativeNames();
      return names != null && names.stream().anyMatch(n -> Role.NODE_MARKER.equals(n.get(1)));
    } catch (CertificateParsingException e) {
      return false;
    }
  }

  /** As an operator reads it: {@code node n1}, {@code operator "armor operator"}. */
  @Override
  public String toString() {
    return role == Role.NODE ? "node " + name : role + " \"" + name + "\"";
  }
}
