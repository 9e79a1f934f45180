package dev.armor.systemtest.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;

/**
 * {@code EpollServer PORT}: a Netty server that requires the epoll transport (no NIO fallback), as some apps are
 * written. Prints {@code LISTENING native port=P}, or {@code FAILED} and the cause.
 */
public final class EpollServer {

  public static void main(String[] args) throws Exception {
    try {
      EventLoopGroup group = new EpollEventLoopGroup(1);
      Channel channel = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childHandler(new ChannelInboundHandlerAdapter()).bind(Integer.parseInt(args[0])).sync().channel();
      System.out.println("LISTENING native port=" + args[0]);
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
}
