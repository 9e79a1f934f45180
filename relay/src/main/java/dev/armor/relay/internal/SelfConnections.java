package dev.armor.relay.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.ConnectException;
import java.net.SocketAddress;

/**
 * Every connect the relay makes goes through here, so that a connection of a socket to itself is refused.
 *
 * <p>Why: when nobody listens on a port of the ephemeral range (an app listener that has just died, a daemon that
 * has gone), a connect to it can draw that very port as its own source port, and TCP's simultaneous open then
 * connects the socket to itself. The connect "succeeds" and the relay would take its own socket for the app or the
 * daemon: bytes it sends come back as the peer's, and the next crash of the real peer never reaches it. A
 * self-connection can only happen where nobody listens, so it is failed as what it stands for: a refused connect
 * ({@link ConnectException}), and the socket is closed with a reset (no TIME_WAIT left on the dead listener's port).
 * Go's dialer makes the same check.
 *
 * <p>The check runs in a handler first in the pipeline: it sees the connect's outcome before any listener of the
 * connect and keeps {@code channelActive} from the other handlers of a socket it refused.
 */
final class SelfConnections {
  private static final String GUARD = "armor-refuse-self-connection";

  private SelfConnections() {}

  /**
   * Registers a channel of {@code bootstrap} and connects it to {@code remote} (from the bootstrap's local address,
   * if it has one), refusing a self-connection.
   */
  static ChannelFuture connect(Bootstrap bootstrap, SocketAddress remote) {
    ChannelFuture registered = bootstrap.register();
    Channel channel = registered.channel();
    SocketAddress local = bootstrap.config().localAddress();
    ChannelPromise connected = channel.newPromise();
    registered.addListener(
        (ChannelFutureListener)
            done -> {
              if (done.isSuccess()) {
                connect(channel, remote, local, connected);
              } else {
                connected.setFailure(done.cause());
              }
            });
    return connected;
  }

  /** Connects the registered (and perhaps bound) {@code channel} to {@code remote}, refusing a self-connection. */
  static ChannelFuture connect(Channel channel, SocketAddress remote) {
    return connect(channel, remote, null, channel.newPromise());
  }

  /** Whether {@code channel} is connected to itself: its local address is its remote address. */
  static boolean isSelfConnection(Channel channel) {
    SocketAddress local = channel.localAddress();
    return local != null && local.equals(channel.remoteAddress());
  }

  private static ChannelFuture connect(
      Channel channel, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
    if (channel.pipeline().get(GUARD) == null) {
      channel.pipeline().addFirst(GUARD, new Guard());
    }
    return channel.connect(remote, local, promise);
  }

  /** Completes the caller's connect promise only once it knows the connection is not to the socket itself. */
  private static final class Guard extends ChannelDuplexHandler {
    private boolean refused;

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
      ChannelPromise outcome = ctx.newPromise();
      outcome.addListener(
          (ChannelFutureListener)
              done -> {
                if (done.isSuccess() && isSelfConnection(ctx.channel())) {
                  refused = true;
                  Transport.reset(ctx.channel());
                  promise.tryFailure(
                      new ConnectException(
                          "Connection refused: "
                              + remote
                              + " (the connect met its own socket: nobody listens there)"));
                } else {
                  ctx.pipeline().remove(this);
                  if (done.isSuccess()) {
                    promise.trySuccess();
                  } else {
                    promise.tryFailure(done.cause());
                  }
                }
              });
      ctx.connect(remote, local, outcome);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      if (!refused) {
        ctx.fireChannelActive();
      }
    }
  }
}
