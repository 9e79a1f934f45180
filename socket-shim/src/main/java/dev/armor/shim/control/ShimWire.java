package dev.armor.shim.control;

import dev.armor.shim.control.ShimMessage.Ack;
import dev.armor.shim.control.ShimMessage.BindQuery;
import dev.armor.shim.control.ShimMessage.ConnectionKind;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Direct;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.Heartbeat;
import dev.armor.shim.control.ShimMessage.HeartbeatAck;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Listening;
import dev.armor.shim.control.ShimMessage.NoPeer;
import dev.armor.shim.control.ShimMessage.Ok;
import dev.armor.shim.control.ShimMessage.Peer;
import dev.armor.shim.control.ShimMessage.PeerNotice;
import dev.armor.shim.control.ShimMessage.PeerQuery;
import dev.armor.shim.control.ShimMessage.Ping;
import dev.armor.shim.control.ShimMessage.Pong;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Unlistened;
import dev.armor.shim.control.ShimMessage.Via;
import dev.armor.shim.control.ShimMessage.Welcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The byte format of the shim control protocol, spoken over the daemon's Unix domain socket.
 *
 * <p>Plain {@code DataOutput} encoding rather than protobuf on purpose: the shim runs inside unmodified apps,
 * and nothing but JDK classes may reach them (an app may bundle its own protobuf of another version).
 *
 * <h2>Frames</h2>
 *
 * <pre>
 * frame   = length:int32 body            length = number of body bytes, 1..65536, big-endian
 * body    = type:uint8 fields            fields by type, below; no trailing bytes
 * address = family:uint8 (4 | 6) ip:byte[4 | 16] port:uint16
 * string  = DataOutput.writeUTF (uint16 byte count, modified UTF-8)
 * </pre>
 *
 * <table>
 *   <caption>Frame types</caption>
 *   <tr><th>type</th><th>direction</th><th>name</th><th>fields</th></tr>
 *   <tr><td>0x01</td><td>shim to daemon</td><td>HELLO</td>
 *       <td>magic:int32 = 0x41524D52 ("ARMR"), version:uint8 = 2, kind:uint8 (1 session, 2 request, 3 peers), pid:int64,
 *       armorId:string, node:string</td></tr>
 *   <tr><td>0x02</td><td>shim to daemon</td><td>PONG</td><td>id:int64</td></tr>
 *   <tr><td>0x03</td><td>shim to daemon</td><td>HEARTBEAT</td><td>beat:int64</td></tr>
 *   <tr><td>0x10</td><td>shim to daemon</td><td>ROUTE</td><td>destination:address</td></tr>
 *   <tr><td>0x11</td><td>shim to daemon</td><td>BIND</td><td>requested:address</td></tr>
 *   <tr><td>0x12</td><td>shim to daemon</td><td>LISTENING</td><td>requested:address, actualPort:uint16</td></tr>
 *   <tr><td>0x13</td><td>shim to daemon</td><td>UNLISTENED</td><td>requested:address</td></tr>
 *   <tr><td>0x14</td><td>shim to daemon</td><td>PEER_OF</td><td>daemonPort:uint16</td></tr>
 *   <tr><td>0x81</td><td>daemon to shim</td><td>WELCOME</td><td>(none)</td></tr>
 *   <tr><td>0x82</td><td>daemon to shim</td><td>PING</td><td>id:int64</td></tr>
 *   <tr><td>0x83</td><td>daemon to shim</td><td>HEARTBEAT_ACK</td><td>beat:int64, leaseMillis:int32 (-1: no node
 *       lease)</td></tr>
 *   <tr><td>0x90</td><td>daemon to shim</td><td>DIRECT</td><td>(none)</td></tr>
 *   <tr><td>0x91</td><td>daemon to shim</td><td>VIA</td><td>port:uint16</td></tr>
 *   <tr><td>0x92</td><td>daemon to shim</td><td>FAIL</td><td>message:string</td></tr>
 *   <tr><td>0x93</td><td>daemon to shim</td><td>OK</td><td>(none)</td></tr>
 *   <tr><td>0x94</td><td>daemon to shim</td><td>PEER</td><td>address:address</td></tr>
 *   <tr><td>0x95</td><td>daemon to shim</td><td>NO_PEER</td><td>(none)</td></tr>
 *   <tr><td>0x96</td><td>daemon to shim</td><td>ACK</td><td>(none)</td></tr>
 *   <tr><td>0x97</td><td>daemon to shim</td><td>PEER_NOTICE</td><td>daemonPort:uint16, address:address</td></tr>
 *   <tr><td>0x9F</td><td>daemon to shim</td><td>ERROR</td><td>message:string</td></tr>
 * </table>
 *
 * <h2>Conversation</h2>
 *
 * Every connection opens with HELLO; the daemon answers WELCOME, or ERROR and closes. On the SESSION connection
 * (one per app process, opened at premain, held until the process ends) the daemon asks PING, which the
 * shim's own thread answers with PONG, and a protected app's shim (one with an ARMOR id) sends HEARTBEAT every
 * heartbeat interval, which the daemon answers with HEARTBEAT_ACK; end of stream there means the process is gone
 * (to the daemon) or the daemon is gone (to the shim). On a REQUEST connection
 * (tied to the session by pid) only the shim asks, one query at a time, each answered by exactly one frame:
 * ROUTE by DIRECT, VIA or FAIL; BIND and LISTENING by OK or FAIL; UNLISTENED by ACK; PEER_OF by PEER or NO_PEER;
 * any query by ERROR when the daemon cannot answer. On the PEERS connection (at most one per process, tied to the
 * session by pid, opened by a shim whose app listens on a rerouted port) only the daemon writes, after the WELCOME:
 * a PEER_NOTICE before each connection it makes to the app's listeners. It never waits for the shim: when the shim
 * does not read fast enough the daemon closes the connection, and the shim asks PEER_OF instead. A frame that breaks
 * these rules closes the connection.
 */
public final class ShimWire {

  /** First field of HELLO: "ARMR". */
  public static final int MAGIC = 0x41524D52;

  /**
   * The protocol version this class speaks; HELLO with another one is refused. 2: HEARTBEAT_ACK carries the node's
   * lease.
   */
  public static final int VERSION = 2;

  /** Largest body accepted or produced, in bytes. */
  public static final int MAX_BODY_LENGTH = 64 * 1024;

  /** Longest message string sent; longer FAIL or ERROR messages are cut, so that any message fits a frame. */
  static final int MAX_MESSAGE_CHARS = 4096;

  private static final int HELLO = 0x01;
  private static final int PONG = 0x02;
  private static final int HEARTBEAT = 0x03;
  private static final int ROUTE = 0x10;
  private static final int BIND = 0x11;
  private static final int LISTENING = 0x12;
  private static final int UNLISTENED = 0x13;
  private static final int PEER_OF = 0x14;
  private static final int WELCOME = 0x81;
  private static final int PING = 0x82;
  private static final int HEARTBEAT_ACK = 0x83;
  private static final int DIRECT = 0x90;
  private static final int VIA = 0x91;
  private static final int FAIL = 0x92;
  private static final int OK = 0x93;
  private static final int PEER = 0x94;
  private static final int NO_PEER = 0x95;
  private static final int ACK = 0x96;
  private static final int PEER_NOTICE = 0x97;
  private static final int ERROR = 0x9F;

  private ShimWire() {}

  /** The whole frame (length prefix included) for {@code message}, ready to write. */
  public static ByteBuffer encode(ShimMessage message) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    DataOutputStream out = new DataOutputStream(bytes);
    try {
      out.writeInt(0); // length, patched below
      writeBody(out, message);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: writing to memory", e);
    }
    ByteBuffer frame = ByteBuffer.wrap(bytes.toByteArray());
    int bodyLength = frame.remaining() - Integer.BYTES;
    if (bodyLength > MAX_BODY_LENGTH) {
      throw new IllegalArgumentException("frame body must be at most " + MAX_BODY_LENGTH + " bytes, but was " + bodyLength);
    }
    frame.putInt(0, bodyLength);
    return frame;
  }

  /** Writes the whole frame for {@code message} to a blocking channel. */
  public static void write(WritableByteChannel channel, ShimMessage message) throws IOException {
    ByteBuffer frame = encode(message);
    while (frame.hasRemaining()) {
      channel.write(frame);
    }
  }

  /** Decodes one frame body (without its length prefix). */
  public static ShimMessage decode(byte[] body) throws ShimProtocolException {
    if (body.length == 0) {
      throw new ShimProtocolException("empty frame");
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
    try {
      ShimMessage message = readBody(in);
      if (in.available() > 0) {
        throw new ShimProtocolException(in.available() + " trailing bytes after " + message);
      }
      return message;
    } catch (ShimProtocolException e) {
      throw e;
    } catch (EOFException e) {
      throw new ShimProtocolException("frame too short for its type 0x" + Integer.toHexString(body[0] & 0xFF), e);
    } catch (IOException | IllegalArgumentException e) {
      throw new ShimProtocolException("malformed frame: " + e.getMessage(), e);
    }
  }

  private static void writeBody(DataOutputStream out, ShimMessage message) throws IOException {
    if (message instanceof Hello m) {
      out.writeByte(HELLO);
      out.writeInt(MAGIC);
      out.writeByte(VERSION);
      out.writeByte(kindCode(m.kind()));
      out.writeLong(m.pid());
      out.writeUTF(m.armorId());
      out.writeUTF(m.node());
    } else if (message instanceof Pong m) {
      out.writeByte(PONG);
      out.writeLong(m.id());
    } else if (message instanceof Heartbeat m) {
      out.writeByte(HEARTBEAT);
      out.writeLong(m.beat());
    } else if (message instanceof RouteQuery m) {
      out.writeByte(ROUTE);
      writeAddress(out, m.destination());
    } else if (message instanceof BindQuery m) {
      out.writeByte(BIND);
      writeAddress(out, m.requested());
    } else if (message instanceof Listening m) {
      out.writeByte(LISTENING);
      writeAddress(out, m.requested());
      out.writeShort(m.actualPort());
    } else if (message instanceof Unlistened m) {
      out.writeByte(UNLISTENED);
      writeAddress(out, m.requested());
    } else if (message instanceof PeerQuery m) {
      out.writeByte(PEER_OF);
      out.writeShort(m.daemonPort());
    } else {
      writeAnswer(out, message);
    }
  }

  private static void writeAnswer(DataOutputStream out, ShimMessage message) throws IOException {
    if (message instanceof Welcome) {
      out.writeByte(WELCOME);
    } else if (message instanceof Ping m) {
      out.writeByte(PING);
      out.writeLong(m.id());
    } else if (message instanceof HeartbeatAck m) {
      out.writeByte(HEARTBEAT_ACK);
      out.writeLong(m.beat());
      out.writeInt(m.leaseMillis());
    } else if (message instanceof Direct) {
      out.writeByte(DIRECT);
    } else if (message instanceof Via m) {
      out.writeByte(VIA);
      out.writeShort(m.port());
    } else if (message instanceof Fail m) {
      out.writeByte(FAIL);
      out.writeUTF(cut(m.message()));
    } else if (message instanceof Ok) {
      out.writeByte(OK);
    } else if (message instanceof Peer m) {
      out.writeByte(PEER);
      writeAddress(out, m.address());
    } else if (message instanceof NoPeer) {
      out.writeByte(NO_PEER);
    } else if (message instanceof Ack) {
      out.writeByte(ACK);
    } else if (message instanceof PeerNotice m) {
      out.writeByte(PEER_NOTICE);
      out.writeShort(m.daemonPort());
      writeAddress(out, m.address());
    } else if (message instanceof DaemonError m) {
      out.writeByte(ERROR);
      out.writeUTF(cut(m.message()));
    } else {
      throw new IllegalArgumentException("unknown message " + message);
    }
  }

  private static ShimMessage readBody(DataInputStream in) throws IOException {
    int type = in.readUnsignedByte();
    switch (type) {
      case HELLO:
        return readHello(in);
      case PONG:
        return new Pong(in.readLong());
      case HEARTBEAT:
        return new Heartbeat(in.readLong());
      case ROUTE:
        return new RouteQuery(readAddress(in));
      case BIND:
        return new BindQuery(readAddress(in));
      case LISTENING:
        return new Listening(readAddress(in), in.readUnsignedShort());
      case UNLISTENED:
        return new Unlistened(readAddress(in));
      case PEER_OF:
        return new PeerQuery(in.readUnsignedShort());
      case WELCOME:
        return new Welcome();
      case PING:
        return new Ping(in.readLong());
      case HEARTBEAT_ACK:
        return new HeartbeatAck(in.readLong(), in.readInt());
      case DIRECT:
        return new Direct();
      case VIA:
        return new Via(in.readUnsignedShort());
      case FAIL:
        return new Fail(in.readUTF());
      case OK:
        return new Ok();
      case PEER:
        return new Peer(readAddress(in));
      case NO_PEER:
        return new NoPeer();
      case ACK:
        return new Ack();
      case PEER_NOTICE:
        return new PeerNotice(in.readUnsignedShort(), readAddress(in));
      case ERROR:
        return new DaemonError(in.readUTF());
      default:
        throw new ShimProtocolException("unknown frame type 0x" + Integer.toHexString(type));
    }
  }

  private static Hello readHello(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      throw new ShimProtocolException("HELLO magic must be 0x" + Integer.toHexString(MAGIC) + ", but was 0x"
          + Integer.toHexString(magic));
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new ShimProtocolException("HELLO version must be " + VERSION + ", but was " + version);
    }
    int kind = in.readUnsignedByte();
    if (kind < 1 || kind > 3) {
      throw new ShimProtocolException("HELLO kind must be 1 (session), 2 (request) or 3 (peers), but was " + kind);
    }
    long pid = in.readLong();
    String armorId = in.readUTF();
    String node = in.readUTF();
    return new Hello(ConnectionKind.values()[kind - 1], pid, armorId, node);
  }

  private static int kindCode(ConnectionKind kind) {
    return switch (kind) {
      case SESSION -> 1;
      case REQUEST -> 2;
      case PEERS -> 3;
    };
  }

  private static void writeAddress(DataOutputStream out, InetSocketAddress address) throws IOException {
    byte[] ip = address.getAddress().getAddress();
    out.writeByte(ip.length == 4 ? 4 : 6);
    out.write(ip);
    out.writeShort(address.getPort());
  }

  private static InetSocketAddress readAddress(DataInputStream in) throws IOException {
    int family = in.readUnsignedByte();
    if (family != 4 && family != 6) {
      throw new ShimProtocolException("address family must be 4 or 6, but was " + family);
    }
    byte[] ip = new byte[family == 4 ? 4 : 16];
    in.readFully(ip);
    int port = in.readUnsignedShort();
    try {
      return new InetSocketAddress(InetAddress.getByAddress(ip), port);
    } catch (UnknownHostException e) {
      throw new ShimProtocolException("bad address", e); // cannot happen for 4 or 16 bytes
    }
  }

  private static String cut(String message) {
    return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS) + "...";
  }
}
