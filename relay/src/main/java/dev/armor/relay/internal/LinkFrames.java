package dev.armor.relay.internal;

import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.CorruptedFrameException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * The link protocol: one link between two relays per proxied client connection, opened by the client's relay: a TCP
 * connection of its own (a dedicated link), or a stream of a TCP connection shared with other links (a multiplexed
 * link, see below). All integers are big-endian and unsigned.
 *
 * <pre>
 * Every frame:
 *   +--------+-----------------+------------------------+
 *   | type   | length          | body                   |
 *   | 1 byte | 4 bytes         | length bytes           |
 *   +--------+-----------------+------------------------+
 *   length: DATA 0..2^31-1 (app bytes, forwarded as they arrive, never reassembled);
 *           other types at most 4096 (MAX_CONTROL_BODY).
 *   string: u16 byte count + UTF-8.
 *
 * type 1 OPEN     client side -> server side, first frame on the link, answered by OPENED or REFUSED.
 *                 version u8 (= 2) | attempt u32 (1, 2, ... per connection) | connection id (string)
 *                 | service host (string) | service port u16
 *                 | client IP (u8 byte count, 4 or 16, then the address bytes) | client port u16
 *                 | policy u8 (1 RECONNECT, 2 REPLAY: both sides send ACK on this link)       [since version 2]
 *                 | replay u8 (1: the client side replays the client's stream from its byte 0 on this link,
 *                   0: a fresh stream) | skip u64 (on a replay: how many bytes of the server app's output the
 *                   client side drops as already delivered, checking them)                   [since version 2]
 *                 | direct u8 (1: the client side asks to carry the connection's bytes itself, on a TCP
 *                   connection of its own straight to the server app, from the address that follows; 0: relayed,
 *                   nothing follows) | from IP (u8 byte count, 4 or 16, then the bytes) | from port u16
 *                                                                                             [since version 3]
 *                 A version 1 OPEN (without the policy fields) is still accepted, as RECONNECT; a client side
 *                 sends version 3 only when it asks for the direct path, so relayed links stay version 2, and a
 *                 server side that refuses version 3 (BAD_OPEN) gets the service's connections relayed.
 * type 2 OPENED   server side -> client side: the server app accepted; DATA may flow both ways. Empty body, or,
 *                 in answer to a direct OPEN that the server side grants: the app's listener, IP (u8 byte count
 *                 and bytes) | port u16: the client side connects there from the address it named (the app's
 *                 shim has been told that connection's client), and the link carries no DATA from then on,
 *                 only control frames. An empty OPENED answers a direct OPEN the server side does not grant (the
 *                 app listens where the client's daemon cannot reach it): the connection is relayed.
 * type 3 REFUSED  server side -> client side, then the server side closes the link. The client side holds.
 *                 reason u8 (1 NOT_EXPOSED: no such service here, 2 APP_REFUSED: the app's listener refused,
 *                 3 BAD_OPEN: unsupported version or malformed OPEN) | message (string)
 * type 4 DATA     either way, only after OPENED: app bytes.
 * type 5 FIN      either way: the sender's app shut its output (half-close); no DATA follows that way. Empty body.
 * type 6 ABORT    either way, then the sender closes the link.
 *                 reason u8 (1 RESET: an app reset its connection, pass the reset on;
 *                 2 SERVER_LOST: the server app died, the client side holds;
 *                 3 SERVER_LOST_UNANSWERED: the server app died after it had read bytes of the client's that it
 *                   never answered (a request in flight), see UnansweredInput; an older daemon takes
 *                   the frame for a malformed one and closes the link, which it treats as SERVER_LOST)
 *                 | message (string)
 * type 7 ACK      either way, only on a REPLAY link, after OPENED: cumulative acknowledgement.   [since version 2]
 *                 received u64: of the DATA bytes the receiver of this ACK sent on this link, how many the sender
 *                 has passed on (server side: written to the server app; client side: written to the client app,
 *                 or dropped as duplicates of what it already had). Sent at most every 64 KiB or 20 ms of input.
 *                 Not sent on a direct link (no DATA crosses it).
 * type 8 APP_END  client side -> server side, only on a direct link: the direct connection to the server app
 *                 ended, and the server side is to decide (as when its own connection to the app ends) whether
 *                 the app closed it (FIN, or ABORT RESET) or died (ABORT SERVER_LOST).        [since version 3]
 *                 how u8 (1 EOF: the app shut its output, 2 RESET: the connection failed, 3 EOF_UNANSWERED: as
 *                 EOF, after the app had read bytes it never answered) | message (string)
 * </pre>
 *
 * <p>Sequence numbers are implicit: DATA on a link is a byte stream starting at offset 0 of the link, and a link
 * carries one attempt. On a replay the client side's stream on the new link is again the client app's stream from
 * its first byte (since the connection's last fresh attach), so link offsets and stream offsets coincide: an ACK is
 * both. The client side keeps the whole client-to-server stream (its replay log is trimmed to nothing short of a
 * fresh attach: a restarted server needs it all), so an ACK from the server side trims nothing there; it tells the
 * client side (and its status) how much the current server instance has read, and when a replay has been consumed.
 *
 * <p>A link that closes without FIN from both sides or an ABORT means the other daemon (or the path to it) was
 * lost: the client side holds its connection, the server side resets its app connection.
 *
 * <p>Multiplexed links ({@link SharedLinks}). A shared connection is an HTTP/2 connection (RFC 9113, cleartext, prior
 * knowledge: it starts with the client preface, which is how the server side tells it from a dedicated link, whose
 * first byte is OPEN's type). Each link is one stream, opened by the client side with a HEADERS frame (a fixed POST
 * request, no Armor data in it) and answered with a HEADERS frame (status 200) before the server side's first bytes;
 * the link's byte stream, framed exactly as above, is the stream's DATA (an HTTP/2 DATA frame may hold several link
 * frames or part of one). A link's close is its stream's RST_STREAM (never END_STREAM: FIN says a half-close);
 * the shared connection's loss closes every stream on it, which each link takes as a lost link. Settings: each
 * stream's window 1 MiB, frames up to 257 KiB, the connection's window 2^31-1, no limit on concurrent streams.
 *
 * <p>DATA is never copied. Bytes read from an app socket go out as that very buffer, the 5-byte header written into
 * room its reader left in front ({@link #writeAppData}): one buffer per frame, nothing allocated per message; any
 * other payload (a replay) as two buffers, a pooled header and the payload. The decoder hands DATA on as retained
 * slices of the inbound buffer.
 */
final class LinkFrames {

  static final byte OPEN = 1;
  static final byte OPENED = 2;
  static final byte REFUSED = 3;
  static final byte DATA = 4;
  static final byte FIN = 5;
  static final byte ABORT = 6;
  static final byte ACK = 7;
  static final byte APP_END = 8;

  static final int HEADER_LENGTH = 5;
  static final int MAX_CONTROL_BODY = 4096;
  static final int VERSION = 3;
  /** The version of a relayed OPEN: what a server side without the direct path understands. */
  static final int RELAYED_VERSION = 2;
  /** The oldest OPEN version the server side still accepts (as RECONNECT). */
  static final int MIN_VERSION = 1;

  static final int POLICY_RECONNECT = 1;
  static final int POLICY_REPLAY = 2;

  private LinkFrames() {}

  /** A decoded control frame (everything but DATA, which travels as a plain {@link ByteBuf}). */
  sealed interface Frame permits Open, Opened, Refused, Fin, Abort, Ack, AppEnd {}

  /**
   * OPEN. {@code replay} and {@code skip} only with {@code policy} REPLAY: the link carries the client's whole
   * stream again, and the client side drops the first {@code skip} bytes of the server app's output. {@code
   * directFrom} (version 3, else null): the client side asks for the direct path, from that address.
   */
  record Open(
      int version,
      int attempt,
      String connectionId,
      ServiceAddress service,
      InetSocketAddress client,
      RecoveryPolicy policy,
      boolean replay,
      long skip,
      InetSocketAddress directFrom)
      implements Frame {

    /** A fresh RECONNECT OPEN (version 1 fields only). */
    Open(int version, int attempt, String connectionId, ServiceAddress service, InetSocketAddress client) {
      this(version, attempt, connectionId, service, client, RecoveryPolicy.RECONNECT, false, 0, null);
    }

    boolean direct() {
      return directFrom != null;
    }
  }

  /** ACK: {@code received} bytes of the DATA the receiver sent on this link were passed on by the sender. */
  record Ack(long received) implements Frame {}

  /** OPENED; {@code appListener} non-null when it grants the direct path (connect there). */
  record Opened(InetSocketAddress appListener) implements Frame {
    /** The OPENED of a relayed connection. */
    static final Opened RELAYED = new Opened(null);

    boolean direct() {
      return appListener != null;
    }
  }

  /**
   * APP_END: the direct connection to the server app ended; {@code reset}: it failed rather than ended;
   * {@code unanswered}: it ended with an end of stream after the app had read bytes it never answered (what the server
   * side tells the client side if the app turns out dead: {@link UnansweredInput}).
   */
  record AppEnd(boolean reset, boolean unanswered, String message) implements Frame {
    AppEnd {
      if (reset && unanswered) {
        throw new IllegalArgumentException("an APP_END is a reset or an end of stream after unanswered input");
      }
    }
  }

  static final int APP_END_EOF = 1;
  static final int APP_END_RESET = 2;
  static final int APP_END_EOF_UNANSWERED = 3;

  record Refused(RefusalReason reason, String message) implements Frame {}

  enum Fin implements Frame {
    INSTANCE
  }

  record Abort(AbortReason reason, String message) implements Frame {}

  enum RefusalReason {
    NOT_EXPOSED(1, "service not exposed here"),
    APP_REFUSED(2, "app refused"),
    BAD_OPEN(3, "bad OPEN");

    final int code;
    final String words;

    RefusalReason(int code, String words) {
      this.code = code;
      this.words = words;
    }

    static RefusalReason of(int code) {
      for (RefusalReason r : values()) {
        if (r.code == code) {
          return r;
        }
      }
      throw new CorruptedFrameException("unknown REFUSED reason " + code);
    }
  }

  enum AbortReason {
    RESET(1),
    SERVER_LOST(2),
    SERVER_LOST_UNANSWERED(3);

    final int code;

    AbortReason(int code) {
      this.code = code;
    }

    static AbortReason of(int code) {
      for (AbortReason r : values()) {
        if (r.code == code) {
          return r;
        }
      }
      throw new CorruptedFrameException("unknown ABORT reason " + code);
    }
  }

  /**
   * Writes (does not flush) a DATA frame of bytes read from an app socket, taking ownership of {@code payload}: the
   * header goes into the {@link #HEADER_LENGTH} bytes in front of the payload that {@link HeadroomRecvByteBufAllocator}
   * reserved, so the frame is one buffer and nothing is allocated; without that room (a buffer from elsewhere),
   * as {@link #writeData}. Only for app read buffers: the bytes before their reader index are nobody's.
   */
  static void writeAppData(Channel link, ByteBuf payload) {
    int start = payload.readerIndex() - HEADER_LENGTH;
    if (start < 0) {
      writeData(link, payload);
      return;
    }
    int length = payload.readableBytes();
    payload.setByte(start, DATA);
    payload.setInt(start + 1, length);
    payload.readerIndex(start);
    link.write(payload, link.voidPromise());
  }

  /** Writes (does not flush) a DATA frame: a pooled header, then {@code payload} itself; takes ownership of it. */
  static void writeData(Channel link, ByteBuf payload) {
    ByteBuf header = link.alloc().ioBuffer(HEADER_LENGTH);
    header.writeByte(DATA).writeInt(payload.readableBytes());
    link.write(header, link.voidPromise());
    link.write(payload, link.voidPromise());
  }

  static ByteBuf encode(ByteBufAllocator alloc, Frame frame) {
    ByteBuf out = alloc.ioBuffer(64);
    out.writeByte(typeOf(frame)).writeInt(0); // length patched below
    if (frame instanceof Open open) {
      out.writeByte(open.version()).writeInt(open.attempt());
      writeString(out, open.connectionId());
      writeString(out, open.service().host());
      out.writeShort(open.service().port());
      writeAddress(out, open.client());
      if (open.version() >= 2) {
        out.writeByte(open.policy() == RecoveryPolicy.REPLAY ? POLICY_REPLAY : POLICY_RECONNECT);
        out.writeByte(open.replay() ? 1 : 0).writeLong(open.skip());
      }
      if (open.version() >= 3) {
        out.writeByte(open.direct() ? 1 : 0);
        if (open.direct()) {
          writeAddress(out, open.directFrom());
        }
      }
    } else if (frame instanceof Opened opened) {
      if (opened.direct()) {
        writeAddress(out, opened.appListener());
      }
    } else if (frame instanceof AppEnd end) {
      out.writeByte(end.reset() ? APP_END_RESET : end.unanswered() ? APP_END_EOF_UNANSWERED : APP_END_EOF);
      writeString(out, end.message());
    } else if (frame instanceof Refused refused) {
      out.writeByte(refused.reason().code);
      writeString(out, refused.message());
    } else if (frame instanceof Abort abort) {
      out.writeByte(abort.reason().code);
      writeString(out, abort.message());
    } else if (frame instanceof Ack ack) {
      out.writeLong(ack.received());
    }
    int bodyLength = out.readableBytes() - HEADER_LENGTH;
    if (bodyLength > MAX_CONTROL_BODY) {
      out.release();
      throw new IllegalArgumentException("control frame body of " + bodyLength + " bytes exceeds " + MAX_CONTROL_BODY);
    }
    out.setInt(1, bodyLength);
    return out;
  }

  static byte typeOf(Frame frame) {
    if (frame instanceof Open) {
      return OPEN;
    } else if (frame instanceof Opened) {
      return OPENED;
    } else if (frame instanceof Refused) {
      return REFUSED;
    } else if (frame instanceof Fin) {
      return FIN;
    } else if (frame instanceof Ack) {
      return ACK;
    } else if (frame instanceof AppEnd) {
      return APP_END;
    } else {
      return ABORT;
    }
  }

  /** Decodes the body of a control frame of {@code type}; throws {@link CorruptedFrameException} if malformed. */
  static Frame decode(byte type, ByteBuf body) {
    try {
      Frame frame;
      switch (type) {
        case OPEN -> {
          int version = body.readUnsignedByte();
          int attempt = body.readInt();
          String id = readString(body);
          String host = readString(body);
          int port = body.readUnsignedShort();
          InetSocketAddress client = readAddress(body, "OPEN client");
          RecoveryPolicy policy = RecoveryPolicy.RECONNECT;
          boolean replay = false;
          long skip = 0;
          if (version >= 2) {
            int code = body.readUnsignedByte();
            if (code != POLICY_RECONNECT && code != POLICY_REPLAY) {
              throw new CorruptedFrameException("OPEN with unknown policy " + code);
            }
            policy = code == POLICY_REPLAY ? RecoveryPolicy.REPLAY : RecoveryPolicy.RECONNECT;
            replay = body.readUnsignedByte() == 1;
            skip = body.readLong();
            if (skip < 0 || (!replay && skip != 0) || (replay && policy != RecoveryPolicy.REPLAY)) {
              throw new CorruptedFrameException("OPEN with replay " + replay + ", skip " + skip + ", " + policy);
            }
          }
          InetSocketAddress directFrom = null;
          if (version >= 3) {
            int direct = body.readUnsignedByte();
            if (direct > 1) {
              throw new CorruptedFrameException("OPEN with direct " + direct);
            }
            directFrom = direct == 1 ? readAddress(body, "OPEN direct") : null;
          }
          frame =
              new Open(
                  version,
                  attempt,
                  id,
                  new ServiceAddress(host, port),
                  client,
                  policy,
                  replay,
                  skip,
                  directFrom);
        }
        case OPENED -> frame = body.isReadable() ? new Opened(readAddress(body, "OPENED app")) : Opened.RELAYED;
        case REFUSED -> frame = new Refused(RefusalReason.of(body.readUnsignedByte()), readString(body));
        case FIN -> frame = Fin.INSTANCE;
        case ABORT -> frame = new Abort(AbortReason.of(body.readUnsignedByte()), readString(body));
        case ACK -> {
          long received = body.readLong();
          if (received < 0) {
            throw new CorruptedFrameException("ACK of " + received + " bytes");
          }
          frame = new Ack(received);
        }
        case APP_END -> {
          int how = body.readUnsignedByte();
          if (how != APP_END_EOF && how != APP_END_RESET && how != APP_END_EOF_UNANSWERED) {
            throw new CorruptedFrameException("APP_END with unknown kind " + how);
          }
          frame = new AppEnd(how == APP_END_RESET, how == APP_END_EOF_UNANSWERED, readString(body));
        }
        default -> throw new CorruptedFrameException("unknown frame type " + type);
      }
      if (body.isReadable()) {
        throw new CorruptedFrameException(
            "frame type " + type + " has " + body.readableBytes() + " trailing bytes");
      }
      return frame;
    } catch (IndexOutOfBoundsException | IllegalArgumentException | UnknownHostException e) {
      throw new CorruptedFrameException("malformed frame type " + type + ": " + e.getMessage(), e);
    }
  }

  private static void writeAddress(ByteBuf out, InetSocketAddress address) {
    byte[] ip = address.getAddress().getAddress();
    out.writeByte(ip.length).writeBytes(ip).writeShort(address.getPort());
  }

  private static InetSocketAddress readAddress(ByteBuf in, String what) throws UnknownHostException {
    int ipLength = in.readUnsignedByte();
    if (ipLength != 4 && ipLength != 16) {
      throw new CorruptedFrameException(what + " IP of " + ipLength + " bytes");
    }
    byte[] ip = new byte[ipLength];
    in.readBytes(ip);
    return new InetSocketAddress(InetAddress.getByAddress(ip), in.readUnsignedShort());
  }

  private static void writeString(ByteBuf out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > 0xFFFF) {
      throw new IllegalArgumentException("string of " + bytes.length + " bytes is too long for a frame");
    }
    out.writeShort(bytes.length).writeBytes(bytes);
  }

  private static String readString(ByteBuf in) {
    int length = in.readUnsignedShort();
    if (length > in.readableBytes()) {
      throw new CorruptedFrameException("string of " + length + " bytes, only " + in.readableBytes() + " left");
    }
    return in.readCharSequence(length, StandardCharsets.UTF_8).toString();
  }
}
