package dev.armor.relay.internal;

import dev.armor.relay.AppProtocol;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * A protocol recovery element: reads one client connection's bytes both ways, as they pass, and says at a loss of the
 * server what the client side can do for that protocol. The client side asks its elements in order; the first that
 * claims the connection decides, and a connection none claims is left to the generic rules ({@link ReconnectGuard}).
 * A new protocol is one more implementation and one more {@link AppProtocol} value, chosen per service by {@code armor
 * run --protocol} or, under {@link AppProtocol#AUTO}, by the connection's first bytes.
 *
 * <p>Not thread-safe: confined to its connection's event loop; bounded per connection.
 */
interface ProtocolElement {

  /** The client's bytes towards the server (the buffer's readable bytes; its indices are not moved). */
  void clientSent(ByteBuf buf);

  /** The server's bytes towards the client (as {@link #clientSent}). */
  void serverSent(ByteBuf buf);

  /**
   * The server was lost: what the client side is to do, or null when this element does not claim the connection (it
   * is not this protocol's, or, under {@code replay}, this element leaves it to the replay).
   *
   * @param replay whether the connection is replayed to the new instance rather than re-attached fresh
   */
  AtLoss atLoss(boolean replay);

  /** The bytes of a {@link Resend} were put before the client's held bytes: they go to the next instance again. */
  default void resent() {}

  /** What the client side does at a loss. */
  sealed interface AtLoss permits Carry, Resend, Answer, Reset, End {}

  /** Nothing in flight: re-attached as it is (the generic rules' watchdog still guards it). */
  record Carry() implements AtLoss {}

  /**
   * Send {@code bytes} (the requests in flight, {@code count} of them, which may be sent twice) to the next instance
   * first, then re-attach; {@code what} names them for the log ("unanswered HTTP request(s)").
   */
  record Resend(byte[] bytes, int count, String what) implements AtLoss {}

  /** Answer the client {@code bytes} and end the connection (a 503, a GOAWAY); {@code why} for the log. */
  record Answer(String why, byte[] bytes) implements AtLoss {}

  /** Reset the client's connection at once: {@code why}. */
  record Reset(String why) implements AtLoss {}

  /** End the client's stream at once, as the crash ends it: {@code why}. */
  record End(String why) implements AtLoss {}

  /** The elements a connection of a service with {@code protocol} gets, in the order they are asked. */
  static List<ProtocolElement> forProtocol(AppProtocol protocol, int httpRequestsKept) {
    return switch (protocol) {
      case AUTO -> List.of(new Http1Exchanges(httpRequestsKept), new Http2Frames());
      case HTTP1 -> List.of(new Http1Exchanges(httpRequestsKept));
      case HTTP2 -> List.of(new Http2Frames());
      case GENERIC -> List.of();
    };
  }
}
