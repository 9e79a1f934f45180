package dev.armor.execution.process;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.armor.elements.wire.ArmorMessage;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One end of the channel between a daemon and an Execution ARMOR process.
 *
 * <p>Wire format: each frame is a 4-byte big-endian length (of what follows), a 1-byte kind, an 8-byte request
 * id, and an {@code ArmorMessage} protobuf. Kinds: {@code HELLO} (the ARMOR process's first frame: {@code from}
 * is its ARMOR id, {@code correlation_id} its pid), {@code SEND} (no reply expected, request id 0),
 * {@code REQUEST} (the other end answers with a {@code REPLY} carrying the same request id). Request ids belong
 * to the end that sent the request; {@code replyTo} actor references never cross the channel: each end keeps its
 * own and the channel matches replies by id.
 *
 * <p>Design note. A thread per channel reads frames (there is one channel per ARMOR process, and few of those);
 * writes are serialised on the channel. A frame that breaks the format (bad length, unknown kind, a body that is
 * not an ArmorMessage) closes this channel with an error naming what was wrong; nothing else is affected. When
 * the channel closes, every request still waiting for a reply is answered with an error, so no asker waits for
 * its timeout.
 */
public final class ArmorChannel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ArmorChannel.class);

  /** Frames larger than this are refused: ARMOR messages are small, and a wild length must not allocate. */
  public static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;

  static final byte HELLO = 1;
  static final byte SEND = 2;
  static final byte REQUEST = 3;
  static final byte REPLY = 4;
  static final int HEADER_BYTES = 1 + 8;

  /** What arrives on the channel. Called on the channel's reader thread. */
  public interface Handler {
    /** The ARMOR process introduced itself (daemon side only). */
    default void hello(ArmorChannel channel, String armorId, long pid) {}

    /**
     * A message from the other end; {@code reply} is null for a one-way message, else it sends the answer back
     * (once).
     */
    void received(ArmorMessage message, Consumer<ArmorMessage> reply);

    /** The channel closed: end of stream, an I/O error or a malformed frame ({@code reason} says which). */
    void closed(ArmorChannel channel, String reason);
  }

  /** A frame that breaks the channel's format. */
  public static final class MalformedFrameException extends IOException {
    public MalformedFrameException(String message) {
      super(message);
    }
  }

  /** A request waiting for its reply; {@code onUnanswered} gets why, if the channel closes first. */
  private record Pending(ArmorMessage request, Consumer<ArmorMessage> onReply, Consumer<String> onUnanswered) {}

  /** A decoded frame. */
  record Frame(byte kind, long requestId, ArmorMessage message) {}

  private final java.io.Closeable socket;
  private final InputStream in;
  private final OutputStream out;
  private final String name;
  private final Handler handler;
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextRequestId = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread reader;

  private ArmorChannel(java.io.Closeable socket, InputStream in, OutputStream out, String name, Handler handler) {
    this.socket = socket;
    this.in = in;
    this.out = out;
    this.name = name;
    this.handler = handler;
    this.reader = new Thread(this::readLoop, "armor-channel " + name);
    this.reader.setDaemon(true);
  }

  /** Starts reading {@code socket} (a connected, blocking channel) and hands what arrives to {@code handler}. */
  public static ArmorChannel open(SocketChannel socket, String name, Handler handler) {
    // Written with the channel's own write, not Channels.newOutputStream: that one takes the lock a blocked read holds.
    OutputStream out = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] bytes, int offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
        while (buffer.hasRemaining()) {
          socket.write(buffer);
        }
      }
    };
    return start(new ArmorChannel(socket, Channels.newInputStream(socket), out, name, handler));
  }

  /**
   * Starts reading {@code socket} (connected; a TLS socket whose handshake is done, for the channels between nodes)
   * and hands what arrives to {@code handler}.
   */
  public static ArmorChannel open(Socket socket, String name, Handler handler) throws IOException {
    return start(new ArmorChannel(socket, socket.getInputStream(), socket.getOutputStream(), name, handler));
  }

  private static ArmorChannel start(ArmorChannel channel) {
    channel.reader.start();
    return channel;
  }

  public String name() {
    return name;
  }

  public boolean isOpen() {
    return !closed.get();
  }

  /** The ARMOR process's first frame: who it is. */
  public boolean hello(String armorId, long pid) {
    return write(HELLO, 0, ArmorMessage.newBuilder().setFrom(armorId).setCorrelationId(pid).build());
  }

  /** Sends a one-way message; false if the channel is closed. */
  public boolean send(ArmorMessage message) {
    return write(SEND, 0, message);
  }

  /**
   * Sends a request; {@code onReply} gets the answer, or an error reply if the channel closes first. False (and
   * no callback) if the channel is closed already.
   */
  public boolean request(ArmorMessage message, Consumer<ArmorMessage> onReply) {
    return request(message, onReply, reason -> onReply.accept(ArmorMessage.newBuilder()
        .setFrom(message.getTo())
        .setTo(message.getFrom())
        .setCorrelationId(message.getCorrelationId())
        .setError("the channel to " + name + " closed before " + message.getTo() + " answered: " + reason)
        .build()));
  }

  /**
   * Sends a request; {@code onReply} gets the answer, or, if the channel closes first, {@code onUnanswered} gets why
   * (the other end may or may not have acted on it). False (and no callback) if the channel is closed already.
   */
  public boolean request(ArmorMessage message, Consumer<ArmorMessage> onReply, Consumer<String> onUnanswered) {
    long id = nextRequestId.incrementAndGet();
    pending.put(id, new Pending(message, onReply, onUnanswered));
    if (write(REQUEST, id, message)) {
      return true;
    }
    pending.remove(id);
    return false;
  }

  private boolean write(byte kind, long requestId, ArmorMessage message) {
    if (closed.get()) {
      return false;
    }
    ByteBuffer frame = encode(kind, requestId, message);
    try {
      synchronized (out) {
        out.write(frame.array(), frame.position(), frame.remaining());
        out.flush();
      }
      return true;
    } catch (IOException e) {
      close("cannot write to the channel: " + e.getMessage());
      return false;
    }
  }

  static ByteBuffer encode(byte kind, long requestId, ArmorMessage message) {
    byte[] body = message.toByteArray();
    if (HEADER_BYTES + body.length > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("an ARMOR message of " + body.length + " bytes is larger than the channel's "
          + MAX_FRAME_BYTES + "-byte frame limit");
    }
    ByteBuffer frame = ByteBuffer.allocate(4 + HEADER_BYTES + body.length);
    frame.putInt(HEADER_BYTES + body.length).put(kind).putLong(requestId).put(body).flip();
    return frame;
  }

  /** Reads one frame; null at a clean end of stream (between frames). */
  static Frame decode(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    if (length < HEADER_BYTES || length > MAX_FRAME_BYTES) {
      throw new MalformedFrameException("malformed frame: length " + length + " is outside " + HEADER_BYTES + ".."
          + MAX_FRAME_BYTES);
    }
    byte kind = in.readByte();
    if (kind < HELLO || kind > REPLY) {
      throw new MalformedFrameException("malformed frame: unknown kind " + kind);
    }
    long requestId = in.readLong();
    // Read as it arrives, not allocated whole from the header: a peer that declares 16 MiB and sends nothing more
    // holds no more memory than it sent.
    byte[] body = in.readNBytes(length - HEADER_BYTES);
    if (body.length < length - HEADER_BYTES) {
      throw new MalformedFrameException("malformed frame: the stream ended inside a frame of " + length + " bytes");
    }
    try {
      return new Frame(kind, requestId, ArmorMessage.parseFrom(body));
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedFrameException("malformed frame: the body is not an ArmorMessage (" + e.getMessage() + ")");
    }
  }

  private void readLoop() {
    String reason = "end of stream";
    try (InputStream raw = in) {
      DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw));
      Frame frame;
      while ((frame = decode(in)) != null) {
        dispatch(frame);
      }
    } catch (MalformedFrameException e) {
      reason = e.getMessage();
      log.warn("ARMOR channel {}: {}; closing this channel", name, reason);
    } catch (IOException e) {
      reason = closed.get() ? "closed" : "read failed: " + e.getMessage();
    }
    close(reason);
  }

  private void dispatch(Frame frame) {
    switch (frame.kind()) {
      case HELLO -> handler.hello(this, frame.message().getFrom(), frame.message().getCorrelationId());
      case SEND -> handler.received(frame.message(), null);
      case REQUEST -> {
        long id = frame.requestId();
        AtomicBoolean answered = new AtomicBoolean();
        handler.received(frame.message(), reply -> {
          if (answered.compareAndSet(false, true)) {
            write(REPLY, id, reply);
          }
        });
      }
      case REPLY -> {
        Pending waiting = pending.remove(frame.requestId());
        if (waiting == null) {
          log.debug("ARMOR channel {}: a reply to request {} nobody waits for", name, frame.requestId());
        } else {
          waiting.onReply().accept(frame.message());
        }
      }
      default -> throw new IllegalStateException("unreachable: kind " + frame.kind());
    }
  }

  @Override
  public void close() {
    close("closed");
  }

  /** Closes the channel; every request still waiting is answered with an error that says why. */
  public void close(String reason) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      socket.close();
    } catch (IOException e) {
      log.debug("ARMOR channel {}: close failed", name, e);
    }
    for (Long id : pending.keySet()) {
      Pending waiting = pending.remove(id);
      if (waiting != null) {
        waiting.onUnanswered().accept(reason);
      }
    }
    handler.closed(this, reason);
  }
}
