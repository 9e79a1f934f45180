package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Client side, {@code reconnect} policy: the HTTP/2 frames of one connection (cleartext, prior knowledge: what gRPC
 * speaks), read from the bytes the relay passes each way, so that a server's crash ends the connection the way
 * HTTP/2 ends one gracefully: with a {@code GOAWAY} that tells the client which of its streams were never processed.
 *
 * <p>Design note. No other instance can continue an HTTP/2 connection (its HPACK tables, its stream states, its
 * settings are the lost instance's), so the connection must end. Reset, the client fails every open stream with an
 * error (gRPC: {@code UNAVAILABLE}), as the crash would have failed them, including the streams it opened while the
 * server was down, whose bytes the relay held and no server ever read. A {@code GOAWAY} whose last stream id is the
 * highest stream the lost instance was handed (RFC 9113, section 6.8) says the truth about those: the streams above
 * it were not processed, and a client may send them again on a new connection (gRPC does so by itself, without the
 * application seeing anything: a "transparent retry"), which reaches the new instance. The streams at or below it
 * may have run; they fail as without Armor when the connection then ends. So, at the loss ({@link #atLoss}):
 *
 * <ul>
 *   <li>not HTTP/2 (the client's first bytes are not the connection preface): {@link NotHttp2};
 *   <li>the lost instance had sent its settings and its last frame whole: {@link GoAway}, the frame to send the
 *       client before the connection's end;
 *   <li>otherwise (it died in the middle of a frame, or before its settings): {@link Unhidable}, nothing can be
 *       inserted into the client's stream; it is reset.
 * </ul>
 *
 * <p>Bounded and cheap: per direction a 9-byte frame header and a count of payload bytes to skip; no frame is kept.
 * Not thread-safe: confined to its connection's event loop.
 */
final class Http2Frames implements ProtocolElement {

  /** The client connection preface (RFC 9113, section 3.4). */
  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static final int FRAME_HEADER_LENGTH = 9;
  static final int TYPE_HEADERS = 0x1;
  static final int TYPE_GOAWAY = 0x7;
  static final int NO_ERROR = 0x0;

  /** What the relay can do for the client at the loss of the server. */
  sealed interface AtLoss permits NotHttp2, GoAway, Unhidable {}

  /** Not an HTTP/2 connection: the other rules apply. */
  record NotHttp2() implements AtLoss {}

  /** Send {@code frame}, a GOAWAY whose last stream id is {@code lastStreamId}, then end the connection. */
  record GoAway(byte[] frame, int lastStreamId) implements AtLoss {}

  /** An HTTP/2 connection that cannot be ended gracefully: {@code why}. */
  record Unhidable(String why) implements AtLoss {}

  private enum Mode { UNDECIDED, HTTP2, OPAQUE }

  private Mode mode = Mode.UNDECIDED;
  /** How many bytes of the preface the client has sent so far, while undecided. */
  private int prefaceMatched;
  private final FrameReader fromClient = new FrameReader();
  private final FrameReader fromServer = new FrameReader();
  /** The highest stream id whose HEADERS the client sent towards the current instance (0: none). */
  private int highestStreamToServer;

  /** Whether the connection is HTTP/2 (the client sent the whole preface). */
  boolean isHttp2() {
    return mode == Mode.HTTP2;
  }

  /** The client's bytes go to the server now. */
  @Override
  public void clientSent(ByteBuf buf) {
    int at = buf.readerIndex();
    int end = buf.writerIndex();
    while (mode == Mode.UNDECIDED && at < end) {
      if (buf.getByte(at++) != PREFACE[prefaceMatched++]) {
        mode = Mode.OPAQUE;
      } else if (prefaceMatched == PREFACE.length) {
        mode = Mode.HTTP2;
      }
    }
    if (mode == Mode.HTTP2 && at < end) {
      fromClient.read(buf, at, end, this::clientFrame);
    }
  }

  /** The server's bytes reach the client. */
  @Override
  public void serverSent(ByteBuf buf) {
    if (mode == Mode.UNDECIDED) {
      mode = Mode.OPAQUE; // the server spoke first: not HTTP/2 with prior knowledge
    }
    if (mode == Mode.HTTP2) {
      fromServer.read(buf, buf.readerIndex(), buf.writerIndex(), null);
    }
  }

  private void clientFrame(int type, int streamId) {
    if (type == TYPE_HEADERS && streamId > highestStreamToServer) {
      highestStreamToServer = streamId;
    }
  }

  /**
   * As a protocol element, under either policy: no other instance can continue an HTTP/2 connection byte for byte (its
   * SETTINGS, PINGs and window updates differ from run to run), so a replay of one diverged and failed the call the
   * client had made meanwhile, where without Armor the client would have reconnected and been answered; a GOAWAY
   * has it do that.
   */
  @Override
  public ProtocolElement.AtLoss atLoss(boolean replay) {
    AtLoss streams = atLoss();
    if (streams instanceof GoAway goAway) {
      return new ProtocolElement.Answer("HTTP/2: sent the client GOAWAY with last stream " + goAway.lastStreamId()
          + ": it sends the streams it opened after that again, on a new connection (to the next instance), and its"
          + " streams up to it end with the connection, as the crash would have ended them", goAway.frame());
    }
    if (streams instanceof Unhidable cut) {
      return new ProtocolElement.End("it carries an HTTP/2 connection (gRPC) that no other instance can continue ("
          + cut.why() + ": no GOAWAY can be sent)");
    }
    return null; // not HTTP/2
  }

  /** The server was lost: what to tell the client. */
  AtLoss atLoss() {
    if (mode != Mode.HTTP2) {
      return new NotHttp2();
    }
    if (fromServer.frames == 0) {
      return new Unhidable("the lost instance had not sent its HTTP/2 settings");
    }
    if (!fromServer.atFrameBoundary()) {
      return new Unhidable("the lost instance's last HTTP/2 frame was cut short");
    }
    return new GoAway(goAway(highestStreamToServer, NO_ERROR,
        "armor: the server instance was lost; streams above " + highestStreamToServer + " never reached it"),
        highestStreamToServer);
  }

  /** A GOAWAY frame (RFC 9113, section 6.8). */
  static byte[] goAway(int lastStreamId, int errorCode, String debug) {
    byte[] debugData = debug.getBytes(StandardCharsets.UTF_8);
    int length = 8 + debugData.length;
    byte[] frame = new byte[FRAME_HEADER_LENGTH + length];
    frame[0] = (byte) (length >>> 16);
    frame[1] = (byte) (length >>> 8);
    frame[2] = (byte) length;
    frame[3] = TYPE_GOAWAY;
    // flags 0, stream id 0
    putInt(frame, 9, lastStreamId & 0x7fffffff);
    putInt(frame, 13, errorCode);
    System.arraycopy(debugData, 0, frame, 17, debugData.length);
    return frame;
  }

  private static void putInt(byte[] to, int at, int value) {
    to[at] = (byte) (value >>> 24);
    to[at + 1] = (byte) (value >>> 16);
    to[at + 2] = (byte) (value >>> 8);
    to[at + 3] = (byte) value;
  }

  /** Receives each frame header read: its type and stream id. */
  @FunctionalInterface
  private interface FrameHeaders {
    void frame(int type, int streamId);
  }

  /** Where one direction's byte stream is among its frames. */
  private static final class FrameReader {
    private final byte[] header = new byte[FRAME_HEADER_LENGTH];
    private int headerFilled;
    private int payloadLeft;
    /** Frames read whole. */
    long frames;

    void read(ByteBuf buf, int at, int end, FrameHeaders headers) {
      while (at < end) {
        if (payloadLeft > 0) {
          int n = Math.min(payloadLeft, end - at);
          payloadLeft -= n;
          at += n;
          if (payloadLeft == 0) {
            frames++;
          }
          continue;
        }
        header[headerFilled++] = buf.getByte(at++);
        if (headerFilled == FRAME_HEADER_LENGTH) {
          headerFilled = 0;
          payloadLeft = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff;
          if (headers != null) {
            int streamId = ((header[5] & 0x7f) << 24 | (header[6] & 0xff) << 16 | (header[7] & 0xff) << 8
                | header[8] & 0xff);
            headers.frame(header[3] & 0xff, streamId);
          }
          if (payloadLeft == 0) {
            frames++;
          }
        }
      }
    }

    boolean atFrameBoundary() {
      return headerFilled == 0 && payloadLeft == 0;
    }
  }
}
