package dev.armor.shim.testapp;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The probe app's Netty commands, on the epoll transport only (no NIO fallback, as an app that requires epoll is
 * written): {@code netty-serve:HOST:PORT} listens and answers each line {@code x} with {@code app:x}, printing
 * {@code ACCEPTED netty-serve peer=... local=...} per connection; {@code netty-connect:HOST:PORT} sends {@code ping}
 * and reports the reply. Loaded only when one of them runs.
 */
final class NettyProbe {
  private static EventLoopGroup group;

  private NettyProbe() {}

  private static synchronized EventLoopGroup group() {
    if (group == null) {
      group = new EpollEventLoopGroup(1, new DefaultThreadFactory("probe-epoll", true)); // lets the app exit
    }
    return group;
  }

  static String serve(String host, int port, List<Closeable> servers) throws Exception {
    Channel server = new ServerBootstrap().group(group()).channel(EpollServerSocketChannel.class)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel child) {
            ProbeApp.print("ACCEPTED netty-serve peer=" + child.remoteAddress() + " local=" + child.localAddress());
            child.pipeline().addLast(new Lines(line -> child.writeAndFlush(bytes("app:" + line + "\n"))));
          }
        })
        .bind(host, port).sync().channel();
    servers.add(() -> server.close().syncUninterruptibly());
    return "local=" + server.localAddress();
  }

  static String connect(String host, int port) throws Exception {
    CompletableFuture<String> reply = new CompletableFuture<>();
    Bootstrap bootstrap = new Bootstrap().group(group()).channel(EpollSocketChannel.class)
        .handler(new Lines(reply::complete));
    Channel channel = ProbeApp.bindFrom() == 0 ? bootstrap.connect(host, port).sync().channel()
        : bootstrap.option(ChannelOption.SO_REUSEADDR, true)
            .connect(new InetSocketAddress(host, port),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), ProbeApp.bindFrom()))
            .sync().channel(); // a client's bind before its connect, which the shim must leave alone
    try {
      channel.writeAndFlush(bytes("ping\n"));
      return "remote=" + channel.remoteAddress() + " reply=" + reply.get(10, TimeUnit.SECONDS);
    } finally {
      channel.close().sync();
    }
  }

  private static ByteBuf bytes(String text) {
    return Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
  }

  private interface LineSink {
    void line(String line);
  }

  /** Splits what arrives into lines (ASCII; no frame decoder, so the probe needs only Netty's transport). */
  private static final class Lines extends ChannelInboundHandlerAdapter {
    private final LineSink sink;
    private final StringBuilder pending = new StringBuilder();

    Lines(LineSink sink) {
      this.sink = sink;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      ByteBuf buf = (ByteBuf) message;
      try {
        pending.append(buf.toString(StandardCharsets.UTF_8));
      } finally {
        buf.release();
      }
      for (int end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        sink.line(pending.substring(0, end));
        pending.delete(0, end + 1);
      }
    }
  }
}
