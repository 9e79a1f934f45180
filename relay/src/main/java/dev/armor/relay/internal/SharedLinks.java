package dev.armor.relay.internal;

import dev.armor.relay.RelayListener;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multiplexed links: each link is a stream of an HTTP/2 connection shared by all links from one event loop of this
 * relay to one other daemon (Netty's {@link Http2FrameCodec} and {@link Http2MultiplexHandler}: a child
 * {@link Channel} per stream, on the shared connection's event loop). The link protocol ({@link LinkFrames}) runs
 * unchanged inside each stream ({@link StreamLinkAdapter}), so the connections' code sees a link channel as with
 * dedicated links; a daemon then holds one descriptor per proxied connection (its app socket) instead of two.
 *
 * <p>Why HTTP/2 rather than a framing of our own: it brings what sharing a TCP connection needs, implemented and
 * hardened: a flow-control window per stream (a link whose reader stalls stops only its own sender), fair sharing of
 * the connection among streams with data to send, a child channel per stream whose writability follows its window
 * (so the relay's backpressure code works on it unchanged), and a stream's close (RST_STREAM) delivered after what
 * was sent before it.
 *
 * <p>Flow control. Each link may have {@link #STREAM_WINDOW} bytes in flight unread (1 MiB, like a dedicated link's
 * write-buffer high mark: a bulk transfer on one link is not throttled by its window on loopback or a LAN); a link's
 * window is given back as the link handler reads, so a link whose app stops reading (autoRead off) stops its sender
 * after one window while the other links go on. The connection's own window is the largest HTTP/2 allows (2 GiB): it
 * only limits the sum of what stalled links hold unread, bounded anyway by their windows.
 *
 * <p>Failure. Losing the shared connection closes every stream on it: each link sees its close, exactly as a lost
 * dedicated link (client side: HELD; server side: its app connection reset). Kernel keepalive applies to the shared
 * connection (the link bootstrap's options).
 *
 * <p>Threads. Shared connections are per event loop (a connection's app socket and link must share a loop); the map
 * of each loop is touched only on that loop.
 */
final class SharedLinks {

  private static final Logger log = LoggerFactory.getLogger(SharedLinks.class);

  /** A link's flow-control window: what its sender may have in flight unread by the link handler. */
  static final int STREAM_WINDOW = 1 << 20;

  /** The largest DATA frame accepted: one app read (256 KiB) and its link header in one frame. */
  static final int MAX_FRAME = NettyRelay.MAX_READ_BYTES + 1024;

  /**
   * A shared connection is retired (no new streams; closed when its last stream ends) past this stream id: HTTP/2
   * stream ids are never reused, and a client may open about a billion streams per connection.
   */
  static final int RETIRE_AFTER_STREAM_ID = Integer.MAX_VALUE - (1 << 20);

  private final NettyRelay relay;
  private final Map<EventLoop, Map<InetSocketAddress, Shared>> byLoop = new ConcurrentHashMap<>();
  private final AtomicLong connectionsOpened = new AtomicLong();
  private final AtomicLong linksOpened = new AtomicLong();

  SharedLinks(NettyRelay relay) {
    this.relay = relay;
  }

  /**
   * The most links one shared connection carries at a time (SETTINGS_MAX_CONCURRENT_STREAMS, both sides). A daemon
   * that needs more opens another shared connection (see {@link Shared#newStream}); links are spread over one shared
   * connection per event loop already, so this is reached only past tens of thousands of proxied connections between
   * two daemons. It bounds what one connection can make the accepting daemon hold (a child channel and an app socket
   * per stream).
   */
  static final int MAX_LINKS_PER_CONNECTION = 16_384;

  /**
   * The most control frames (SETTINGS and PING acknowledgements, WINDOW_UPDATE, RST_STREAM) a shared connection may
   * have queued unwritten, Netty's defence against a peer that sends PINGs or SETTINGS and never reads the answers (a
   * flood took a 256 MiB daemon's heap at about 13 bytes per byte sent). Sized to this use: each link may have a
   * window update and its reset queued behind a connection whose peer is slow to read, twice over; a connection past
   * it is closed (its links are lost as when the connection breaks). About 200 bytes of heap each when queued.
   */
  static final int MAX_QUEUED_CONTROL_FRAMES = 4 * MAX_LINKS_PER_CONNECTION;

  /**
   * The most RST_STREAM frames a shared connection may receive in {@link #RESET_WINDOW_SECONDS} (Netty's defence
   * against "rapid reset": streams opened and reset at once, each costing the receiver work). Every link's close is a
   * reset, so the limit is every link of a full connection closing, twice, within the window: a service whose app
   * dies with all its connections stays below it; a peer that opens and resets faster is cut off.
   */
  static final int MAX_RESETS_PER_WINDOW = 2 * MAX_LINKS_PER_CONNECTION;

  static final int RESET_WINDOW_SECONDS = 1;

  /**
   * The most consecutive DATA frames without content (and without END_STREAM) a shared connection may receive. A link
   * sends one only to close after what it queued (an empty write before the close), so as many come in a row as links
   * close at once: bounded by the links of one connection.
   */
  static final int MAX_CONSECUTIVE_EMPTY_DATA = 2 * MAX_LINKS_PER_CONNECTION;

  /** How long a graceful close of a shared connection waits for its GOAWAY to be written (Netty's default: 30 s). */
  static final long CLOSE_WAIT_MILLIS = 1000;

  /** HTTP/2 settings of both sides: large link windows and frames, a bounded number of links. */
  static Http2Settings settings() {
    return Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).maxFrameSize(MAX_FRAME)
        .maxConcurrentStreams(MAX_LINKS_PER_CONNECTION);
  }

  /**
   * The HTTP/2 codec of a shared connection, with Netty's defences against abusive HTTP/2 peers sized to the links'
   * use rather than to a web server's (the constants above): Netty's defaults would misread it, since every closed link
   * is a RST_STREAM (the default rapid-reset limit closes the whole connection after 200 closes in 30 s), a link's
   * close after an empty write is an empty DATA frame, and control frames queue legitimately behind a busy connection.
   * Only daemons of the cluster reach this codec (after the TLS handshake); the limits bound what a faulty or
   * compromised one can make this daemon hold.
   */
  static Http2FrameCodec codec(boolean server) {
    Http2FrameCodecBuilder builder = server ? Http2FrameCodecBuilder.forServer() : Http2FrameCodecBuilder.forClient();
    return builder
        .initialSettings(settings())
        .validateHeaders(false)
        .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
        .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA)
        .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
        .gracefulShutdownTimeoutMillis(CLOSE_WAIT_MILLIS)
        .build();
  }

  /**
   * Opens a link to {@code daemon}: a new stream on {@code loop}'s shared connection to it (connected first if there
   * is none), its pipeline the adapter and then {@code handlers}. The returned future's channel is the link; it
   * completes when the link may be written (the shared connection is up), or fails if that connection could not be
   * opened. Call on {@code loop}.
   */
  ChannelFuture open(EventLoop loop, InetSocketAddress daemon, ChannelHandler handlers) {
    Shared shared = shared(loop, daemon);
    Http2StreamChannel link = shared.newStream(handlers);
    if (link == null) {
      // the shared connection could not even be registered: a fresh one next time
      shared.retire("could not be registered");
      shared = shared(loop, daemon);
      link = shared.newStream(handlers);
      if (link == null) {
        throw new IllegalStateException("cannot open a stream on a shared connection to " + daemon);
      }
    }
    linksOpened.incrementAndGet();
    ChannelPromise ready = link.newPromise();
    shared.whenConnected(link, ready);
    return ready;
  }

  private Shared shared(EventLoop loop, InetSocketAddress daemon) {
    Map<InetSocketAddress, Shared> ofLoop = byLoop.computeIfAbsent(loop, l -> new HashMap<>());
    Shared shared = ofLoop.get(daemon);
    if (shared == null || shared.retired) {
      shared = new Shared(loop, daemon);
      ofLoop.put(daemon, shared);
      shared.connect();
    }
    return shared;
  }

  /** Shared connections opened so far (tests). */
  long connectionsOpened() {
    return connectionsOpened.get();
  }

  /** Links opened as streams so far (tests). */
  long linksOpened() {
    return linksOpened.get();
  }

  /** The open shared connections, over all loops (tests; asks each loop). */
  List<Channel> connections() {
    List<Channel> all = new ArrayList<>();
    for (Map.Entry<EventLoop, Map<InetSocketAddress, Shared>> entry : byLoop.entrySet()) {
      Map<InetSocketAddress, Shared> ofLoop = entry.getValue();
      all.addAll(
          entry.getKey()
              .submit(() -> ofLoop.values().stream().map(s -> s.parent).filter(Channel::isOpen).toList())
              .syncUninterruptibly()
              .getNow());
    }
    return all;
  }

  /** One shared connection from a loop to a daemon; confined to the loop. */
  private final class Shared {
    final EventLoop loop;
    final InetSocketAddress daemon;
    Channel parent;
    Http2FrameCodec codec;
    /**
     * Done when streams may be written: after the connection preface went out (in channelActive, which Netty fires
     * after completing the connect future: a write from the connect future's listeners would precede the preface).
     */
    ChannelPromise ready;
    boolean retired;

    Shared(EventLoop loop, InetSocketAddress daemon) {
      this.loop = loop;
      this.daemon = daemon;
    }

    void connect() {
      connectionsOpened.incrementAndGet();
      codec = codec(false);
      Bootstrap bootstrap =
          relay
              .linkBootstrap(loop)
              .handler(
                  relay.secured(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline()
                          .addLast(
                              codec,
                              new StreamEnds(),
                              new Http2MultiplexHandler(RefuseStreams.INSTANCE),
                              new Lifecycle(Shared.this));
                    }
                  }));
      ChannelFuture connected = SelfConnections.connect(bootstrap, daemon);
      parent = connected.channel();
      ready = parent.newPromise();
      connected.addListener(
          (ChannelFutureListener)
              done -> {
                if (done.isSuccess()) {
                  log.info(
                      "shared link connection to daemon {} opened from {} (multiplexed links)",
                      RelayListener.describe(daemon),
                      RelayListener.describe((InetSocketAddress) parent.localAddress()));
                } else {
                  log.debug("shared link connection to {} not opened: {}", daemon, ClientConnection.message(done.cause()));
                  ready.tryFailure(done.cause());
                  dropped();
                }
              });
    }

    /** A new stream's child channel, or null if the parent is not registered (it failed at once). */
    Http2StreamChannel newStream(ChannelHandler handlers) {
      if (!parent.isRegistered() || parent.pipeline().get(Http2MultiplexHandler.class) == null) {
        return null;
      }
      if (codec.connection().local().lastStreamCreated() > RETIRE_AFTER_STREAM_ID) {
        retire("stream ids used up");
        return null;
      }
      StreamEnds ends = parent.pipeline().get(StreamEnds.class);
      if (ends != null && ends.links.size() >= MAX_LINKS_PER_CONNECTION) {
        retire(MAX_LINKS_PER_CONNECTION + " links open on it, the most one carries");
        return null;
      }
      WriteBufferWaterMark waterMark = parent.config().getWriteBufferWaterMark();
      Promise<Http2StreamChannel> opened = loop.newPromise();
      new Http2StreamChannelBootstrap(parent)
          .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
          .handler(
              new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                  StreamEnds.track((Http2StreamChannel) ch);
                  ch.pipeline().addLast(new StreamLinkAdapter(true), handlers);
                }
              })
          .open0(parent.pipeline().context(Http2MultiplexHandler.class), opened);
      return opened.isSuccess() ? opened.getNow() : null;
    }

    void whenConnected(Http2StreamChannel link, ChannelPromise linkReady) {
      ready.addListener(
          (ChannelFutureListener)
              done -> {
                if (done.isSuccess() && link.isActive()) {
                  linkReady.trySuccess();
                } else {
                  linkReady.tryFailure(
                      done.cause() != null ? done.cause() : new java.nio.channels.ClosedChannelException());
                  link.close();
                }
              });
    }

    /** No new streams here: the next link opens a new shared connection; this one closes with its last stream. */
    void retire(String why) {
      if (retired) {
        return;
      }
      dropped();
      if (parent.isActive() && codec.connection().numActiveStreams() > 0) {
        log.info("shared link connection to daemon {} retired ({}): closes with its last link",
            RelayListener.describe(daemon), why);
        closeWhenIdle();
      } else {
        parent.close();
      }
    }

    private void closeWhenIdle() {
      codec.connection().addListener(
          new io.netty.handler.codec.http2.Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
              if (codec.connection().numActiveStreams() == 0) {
                parent.close();
              }
            }
          });
    }

    /** No longer offered for new links (retired, or its connection failed or closed). */
    void dropped() {
      retired = true;
      Map<InetSocketAddress, Shared> ofLoop = byLoop.get(loop);
      if (ofLoop != null) {
        ofLoop.remove(daemon, this);
      }
    }
  }

  /** Last handler of a shared connection: the connection-level window, and the connection's end. */
  private static final class Lifecycle extends ChannelInboundHandlerAdapter {
    private final Shared shared;

    Lifecycle(Shared shared) {
      this.shared = shared;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Http2Exception {
      expandConnectionWindow(shared.codec.connection());
      ctx.flush();
      ctx.fireChannelActive();
      shared.ready.trySuccess();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("shared link connection to {} failed: {}", shared.daemon, ClientConnection.message(cause));
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!shared.retired || shared.codec.connection().numActiveStreams() > 0) {
        log.info(
            "shared link connection to daemon {} closed: its {} link(s) are lost",
            RelayListener.describe(shared.daemon),
            shared.codec.connection().numActiveStreams());
      }
      shared.dropped();
      shared.ready.tryFailure(new java.nio.channels.ClosedChannelException());
      ctx.fireChannelInactive();
    }
  }

  /** Gives the connection the largest window HTTP/2 allows (the settings set only the streams' windows). */
  static void expandConnectionWindow(Http2Connection connection) throws Http2Exception {
    Http2Connection.Endpoint<io.netty.handler.codec.http2.Http2LocalFlowController> local = connection.local();
    int current = local.flowController().initialWindowSize(connection.connectionStream());
    int delta = Integer.MAX_VALUE - current;
    if (delta > 0) {
      local.flowController().incrementWindowSize(connection.connectionStream(), delta);
    }
  }

  /** Shared connections accepted from other daemons (the server side), while open. */
  private final java.util.Set<Channel> accepted = ConcurrentHashMap.newKeySet();

  /** The shared connections other daemons opened to this one (tests). */
  java.util.Set<Channel> accepted() {
    return accepted;
  }

  /** Server side of a shared connection: a new stream is a link, handled as an accepted dedicated link is. */
  static void serve(ChannelPipeline pipeline, NettyRelay relay) throws Http2Exception {
    Channel parent = pipeline.channel();
    relay.sharedLinks().accepted.add(parent);
    parent.closeFuture().addListener(closed -> relay.sharedLinks().accepted.remove(parent));
    Http2FrameCodec codec = codec(true);
    WriteBufferWaterMark waterMark = pipeline.channel().config().getWriteBufferWaterMark();
    pipeline.addLast(
        codec,
        new StreamEnds(),
        new Http2MultiplexHandler(
            new ChannelInitializer<>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.config().setWriteBufferWaterMark(waterMark);
                StreamEnds.track((Http2StreamChannel) ch);
                ch.pipeline()
                    .addLast(new StreamLinkAdapter(false), new LinkFrameDecoder(), new ServerLinkHandler(relay));
              }
            }),
        AcceptedErrors.INSTANCE);
    codec.connection().addListener(new io.netty.handler.codec.http2.Http2ConnectionAdapter() {
      @Override
      public void onGoAwaySent(int lastStreamId, long errorCode, io.netty.buffer.ByteBuf debugData) {
        // NO_ERROR: a graceful end; INTERNAL_ERROR: this side's failure (the peer reset the connection, which the links
        // report). Anything else is the peer's doing, a limit above or a protocol error: the connection and its links
        // end, said once a second at most.
        if (errorCode != Http2Error.NO_ERROR.code() && errorCode != Http2Error.INTERNAL_ERROR.code()) {
          // Closed once the current read is handled, whatever its GOAWAY's fate: Netty's close would wait for the
          // GOAWAY to be written, which a peer that never reads holds up; its decoders ask for more input themselves
          // (they pass nothing on, so turning autoRead off does not stop them), and past the limit the answers queue
          // without a bound: the flood would be read on, its answers filling the heap.
          parent.eventLoop().execute(() -> parent.unsafe().close(parent.unsafe().voidPromise()));
          relay.linkRefusals().refused(parent.remoteAddress(), "shared link connection closed: "
              + Http2Error.valueOf(errorCode) + " ("
              + debugData.toString(java.nio.charset.StandardCharsets.UTF_8) + ")");
        }
      }
    });
    expandConnectionWindow(codec.connection());
    pipeline.channel().flush();
  }

  /**
   * Makes a link notice its stream's end even while it is not reading, as a dedicated link notices its TCP
   * connection's end (epoll reports it whatever the channel's autoRead): Netty's child channel delivers its close only
   * after what is queued for it has been read, and a link paused by backpressure (or whose app has shut its output)
   * would never read it. When a stream closes (RST_STREAM from the other side, or the shared connection lost), its
   * link is asked to read: what arrived before the end is delivered, in order, then the link closes. Sits between the
   * codec and the multiplex handler; tracks the links of one shared connection (on its event loop).
   */
  static final class StreamEnds extends ChannelInboundHandlerAdapter {
    private final Map<Http2FrameStream, Channel> links = new HashMap<>();
    private boolean flushScheduled;

    /**
     * Flushes the shared connection once the current event-loop task is done. Netty 4.1.118's child channel can write
     * a stream's WINDOW_UPDATE on a read request and leave it unflushed (a read requested while one is in progress, or
     * during the parent's read), and nothing flushes it if the connection has nothing else to send: the sender waits
     * for window forever (seen: a link resumed after its reader stalled, 109 bytes left in the connection's buffer, the
     * server's window for the stream at 0 and the client's at 1 MiB; a flush released it). So every link's read
     * request is followed by a flush of what is buffered on its connection (coalesced: one per connection per task;
     * nothing when nothing is buffered).
     */
    void flushSoon(Channel parent) {
      if (!flushScheduled) {
        flushScheduled = true;
        parent.eventLoop().execute(() -> {
          flushScheduled = false;
          // only what is already in the connection's buffer (below the codec): asking the codec to flush would also
          // make its flow controller write what it holds, in smaller pieces than its own flushes do
          io.netty.channel.ChannelOutboundBuffer buffered = parent.unsafe().outboundBuffer();
          ChannelHandlerContext codec = parent.pipeline().context(Http2FrameCodec.class);
          if (buffered != null && buffered.totalPendingWriteBytes() > 0 && codec != null) {
            codec.flush();
          }
        });
      }
    }

    /** Called on a new link's initialisation (on its loop). */
    static void track(Http2StreamChannel link) {
      StreamEnds ends = link.parent().pipeline().get(StreamEnds.class);
      if (ends != null) {
        Http2FrameStream stream = link.stream();
        ends.links.put(stream, link);
        link.closeFuture().addListener(closed -> ends.links.remove(stream, link));
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      ctx.fireUserEventTriggered(evt); // the multiplex handler marks the link's input ended first
      if (evt instanceof Http2FrameStreamEvent event
          && event.type() == Http2FrameStreamEvent.Type.State
          && event.stream().state() == Http2Stream.State.CLOSED) {
        Channel link = links.remove(event.stream());
        if (link != null && link.isOpen()) {
          link.read();
        }
      }
    }
  }

  /**
   * Last handler of an accepted shared connection: an error the codec passes on (a connection error it already
   * answered with GOAWAY and a close, reported by the GOAWAY listener) ends here rather than in Netty's warning with a
   * stack trace, which a peer could make this daemon write once per connection.
   */
  @ChannelHandler.Sharable
  private static final class AcceptedErrors extends ChannelInboundHandlerAdapter {
    static final AcceptedErrors INSTANCE = new AcceptedErrors();

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // a lost peer (reset) closes the links as a dedicated link's loss does, which the links log
      log.debug("shared link connection from {} failed: {}", ctx.channel().remoteAddress(),
          ClientConnection.message(cause));
      ctx.close();
    }
  }

  /** Client side: the server daemon never opens streams. */
  @ChannelHandler.Sharable
  private static final class RefuseStreams extends ChannelInboundHandlerAdapter {
    static final RefuseStreams INSTANCE = new RefuseStreams();

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }
}
