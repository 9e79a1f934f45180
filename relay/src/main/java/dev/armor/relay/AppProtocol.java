package dev.armor.relay;

import java.util.Locale;

/**
 * Which protocol recovery elements read a service's connections (chosen per service when it is launched, {@code armor
 * run --protocol}): each knows where its protocol's requests begin and end and what may be sent twice, and so hides
 * more of a crash than the generic rules can, or ends the connection the way the protocol ends one (ARCHITECTURE.md,
 * "Recover with reconnect"). A connection that turns out not to speak an element's protocol is left to the generic
 * rules.
 */
public enum AppProtocol {
  /** Every element below, each recognising its protocol from the connection's first bytes (the default). */
  AUTO,
  /** HTTP/1.1 alone (requests re-sent or answered 503 at a loss, as a gateway would). */
  HTTP1,
  /** HTTP/2 alone, gRPC's (a GOAWAY at a loss, which gRPC retries by itself). */
  HTTP2,
  /** None: the generic rules alone, for a protocol whose first bytes could be taken for one of the above. */
  GENERIC;

  /** The name {@code armor run --protocol} takes (in any case), and logs and status show. */
  public String optionName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
