package dev.armor.systemtest.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * {@code EpollServer PORT}: a Netty server that requires the epoll transport (no NIO fallback), as some apps are
 * written; echoes every line back prefixed with its pid, as {@link LineEchoServer} does, a line starting with {@code
 * slow} after 3 s (printing {@code SLOW} when it has it). Prints {@code LISTENING native port=P local=ADDRESS} then
 * {@code LISTENING pid=PID}, and {@code ACCEPTED peer=... local=...} per connection, or {@code FAILED} and the cause.
 */
public final class EpollServer {

  public static void main(String[] args) throws Exception {
    String prefix = ProcessHandle.current().pid() + " ";
    try {
      EventLoopGroup group = new EpollEventLoopGroup(1);
      Channel channel = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel child) {
              System.out.println("ACCEPTED peer=" + child.remoteAddress() + " local=" + child.localAddress());
              System.out.flush();
              child.pipeline().addLast(new Echo(prefix));
            }
          })
          .bind(Integer.parseInt(args[0])).sync().channel();
      System.out.println("LISTENING native port=" + args[0] + " local=" + channel.localAddress());
      System.out.println("LISTENING pid=" + ProcessHandle.current().pid()); // the form the never-worse kit waits for
      System.out.flush();
      channel.closeFuture().sync();
    } catch (Throwable e) {
      StringBuilder causes = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        causes.append(" / ").append(t);
      }
      System.out.println("FAILED" + causes);
    }
  }

  /** Echoes each complete line, prefixed. */
  private static final class Echo extends ChannelInboundHandlerAdapter {
    private final String prefix;
    private final StringBuilder pending = new StringBuilder();

    Echo(String prefix) {
      this.prefix = prefix;
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
        String line = pending.substring(0, end + 1);
        pending.delete(0, end + 1);
        if (line.startsWith("slow")) {
          // a request that takes a while: the test kills the server while it is in flight
          System.out.println("SLOW");
          System.out.flush();
          ctx.executor().schedule(() -> ctx.writeAndFlush(Unpooled.copiedBuffer(prefix + line, StandardCharsets.UTF_8)),
              3, java.util.concurrent.TimeUnit.SECONDS);
        } else {
          ctx.writeAndFlush(Unpooled.copiedBuffer(prefix + line, StandardCharsets.UTF_8));
        }
      }
    }
  }
}
