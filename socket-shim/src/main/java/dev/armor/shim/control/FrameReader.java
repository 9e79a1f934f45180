package dev.armor.shim.control;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reassembles frames from a byte channel, blocking or not: each {@link #read} takes what the channel has and
 * returns a message once a whole frame has arrived. One reader per connection, used by one thread at a time.
 */
public final class FrameReader {
  private final ByteBuffer header = ByteBuffer.allocate(Integer.BYTES);
  private ByteBuffer body; // null while reading the header

  /**
   * Reads from {@code channel}: the next message if its frame is now complete, or null when more bytes are needed
   * (a non-blocking channel had no more). A blocking channel is read until a frame completes.
   *
   * @throws EOFException end of stream between frames: the peer closed the connection
   * @throws ShimProtocolException a bad length, a malformed body, or end of stream inside a frame
   */
  public ShimMessage read(ReadableByteChannel channel) throws IOException {
    while (true) {
      ByteBuffer target = body == null ? header : body;
      int n = channel.read(target);
      if (n < 0) {
        throw endOfStream();
      }
      if (target.hasRemaining()) {
        if (n == 0) {
          return null;
        }
        continue;
      }
      if (body == null) {
        body = ByteBuffer.allocate(checkedLength(header.getInt(0)));
        continue;
      }
      byte[] complete = body.array();
      header.clear();
      body = null;
      return ShimWire.decode(complete);
    }
  }

  private IOException endOfStream() {
    boolean betweenFrames = body == null && header.position() == 0;
    return betweenFrames
        ? new EOFException("end of stream")
        : new ShimProtocolException("end of stream inside a frame");
  }

  private static int checkedLength(int length) throws ShimProtocolException {
    if (length < 1 || length > ShimWire.MAX_BODY_LENGTH) {
      throw new ShimProtocolException(
          "frame length must be in [1, " + ShimWire.MAX_BODY_LENGTH + "], but was " + length);
    }
    return length;
  }
}
