package dev.armor.relay.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The event loops and channel classes of one relay: Linux epoll when available (and wanted), else Java NIO.
 *
 * <p>Two groups: {@code acceptors} (one thread) owns the listening sockets, {@code workers} own every connected
 * socket. A connection's two sockets (app side and link side) are always on the same worker loop, so a
 * connection's state is confined to one thread and needs no locks. Blocking binds from API calls wait on the
 * acceptor loop, never on the caller's own loop.
 */
record Transport(
    String name,
    EventLoopGroup acceptors,
    EventLoopGroup workers,
    Class<? extends ServerChannel> serverChannelClass,
    Class<? extends Channel> channelClass) {

  static Transport create(String nodeName, boolean preferNative, int ioThreads) {
    int threads = ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    ThreadFactory acceptorThreads = new DefaultThreadFactory("armor-relay-" + nodeName + "-accept", true);
    ThreadFactory workerThreads = new DefaultThreadFactory("armor-relay-" + nodeName + "-io", true);
    if (preferNative && Epoll.isAvailable()) {
      return new Transport(
          "epoll",
          new EpollEventLoopGroup(1, acceptorThreads),
          new EpollEventLoopGroup(threads, workerThreads),
          EpollServerSocketChannel.class,
          EpollSocketChannel.class);
    }
    return new Transport(
        "nio",
        new NioEventLoopGroup(1, acceptorThreads),
        new NioEventLoopGroup(threads, workerThreads),
        NioServerSocketChannel.class,
        NioSocketChannel.class);
  }

  /** Why epoll is not used, for the start-up log line; null if it is. */
  static String whyNotNative(boolean preferNative) {
    if (!preferNative) {
      return "native transport disabled by configuration";
    }
    return Epoll.isAvailable() ? null : String.valueOf(Epoll.unavailabilityCause());
  }

  /**
   * The kernel TCP keepalive options of a link (see {@link dev.armor.relay.RelayConfig#linkKeepalive()}); empty when
   * {@code keepalive} is zero. Idle and interval in whole seconds; with epoll also {@code TCP_USER_TIMEOUT}.
   */
  java.util.Map<ChannelOption<?>, Object> linkKeepaliveOptions(java.time.Duration keepalive) {
    java.util.Map<ChannelOption<?>, Object> options = new java.util.LinkedHashMap<>();
    if (keepalive.isZero()) {
      return options;
    }
    int idle = (int) Math.max(1, keepalive.toSeconds());
    int interval = Math.max(1, idle / 3);
    int probes = 3;
    options.put(ChannelOption.SO_KEEPALIVE, true);
    if (name.equals("epoll")) {
      options.put(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPIDLE, idle);
      options.put(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPINTVL, interval);
      options.put(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPCNT, probes);
      options.put(io.netty.channel.epoll.EpollChannelOption.TCP_USER_TIMEOUT, idle * 2000);
    } else {
      options.put(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE), idle);
      options.put(
          io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL), interval);
      options.put(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT), probes);
    }
    return options;
  }

  void shutdown() {
    acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** Closes {@code channel} with a TCP reset (SO_LINGER 0): its peer sees "connection reset", not an end of stream. */
  static void reset(Channel channel) {
    if (channel == null || !channel.isOpen()) {
      return;
    }
    try {
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
    } catch (RuntimeException e) {
      // already closing: a plain close is all that is left
    }
    channel.close();
  }
}
