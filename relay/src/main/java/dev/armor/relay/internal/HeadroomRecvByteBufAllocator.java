package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The read buffers of app sockets: Netty's adaptive sizing, with {@link LinkFrames#HEADER_LENGTH} spare bytes in
 * front of what is read, so that the bytes can go onto a link as one DATA frame whose header is written into that
 * space ({@link LinkFrames#writeAppData}): no header buffer to allocate and release per message, one buffer (one
 * iovec) per frame instead of two.
 *
 * <p>Each buffer is allocated {@code HEADER_LENGTH} bytes larger than Netty's guess, with reader and writer index at
 * {@code HEADER_LENGTH}: the transport reads into the space after the writer index, so the guess, the attempted
 * size and the adaptive growth are exactly as without the headroom. Only app sockets use it; a link's inbound
 * buffers are cut into slices of several frames and have no room to spare.
 */
final class HeadroomRecvByteBufAllocator implements MaxMessagesRecvByteBufAllocator {

  /** Netty's default for socket channels (its own allocator gets it from the channel; one set by option does not). */
  static final int MAX_MESSAGES_PER_READ = 16;

  private final AdaptiveRecvByteBufAllocator sizing;

  /** Reads of Netty's default sizes (at most 64 KiB). */
  HeadroomRecvByteBufAllocator() {
    this(new AdaptiveRecvByteBufAllocator());
  }

  /** Reads sized by {@code sizing}. */
  HeadroomRecvByteBufAllocator(AdaptiveRecvByteBufAllocator sizing) {
    this.sizing = sizing;
    sizing.maxMessagesPerRead(MAX_MESSAGES_PER_READ);
  }

  @Override
  public Handle newHandle() {
    return new HeadroomHandle((ExtendedHandle) sizing.newHandle());
  }

  @Override
  public int maxMessagesPerRead() {
    return sizing.maxMessagesPerRead();
  }

  @Override
  public MaxMessagesRecvByteBufAllocator maxMessagesPerRead(int maxMessagesPerRead) {
    sizing.maxMessagesPerRead(maxMessagesPerRead);
    return this;
  }

  /** Netty's adaptive handle, allocating with headroom. */
  private static final class HeadroomHandle implements ExtendedHandle {
    private final ExtendedHandle sizing;

    HeadroomHandle(ExtendedHandle sizing) {
      this.sizing = sizing;
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      ByteBuf buf = alloc.ioBuffer(sizing.guess() + LinkFrames.HEADER_LENGTH);
      buf.setIndex(LinkFrames.HEADER_LENGTH, LinkFrames.HEADER_LENGTH);
      return buf;
    }

    @Override
    public int guess() {
      return sizing.guess();
    }

    @Override
    public void reset(io.netty.channel.ChannelConfig config) {
      sizing.reset(config);
    }

    @Override
    public void incMessagesRead(int numMessages) {
      sizing.incMessagesRead(numMessages);
    }

    @Override
    public void lastBytesRead(int bytes) {
      sizing.lastBytesRead(bytes);
    }

    @Override
    public int lastBytesRead() {
      return sizing.lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      sizing.attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return sizing.attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return sizing.continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return sizing.continueReading(maybeMoreDataSupplier);
    }

    @Override
    public void readComplete() {
      sizing.readComplete();
    }
  }
}
