package dev.armor.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.net.InetSocketAddress;

/**
 * A diagnostic twin of {@link PlainRelay} on Netty's epoll event loops instead of a blocking thread per direction,
 * and nothing else: no link frames, no replay log, no liveness. It measures the floor under the daemons' data path:
 * what Netty's event loop itself costs per relayed message (docs/PERFORMANCE.md, run 9). Not part of
 * {@code scripts/bench}; run by hand, twice chained, like the plain relays, with Netty on the class path:
 *
 * <pre>
 * java -cp benchmark/target/armor-benchmark-0.1.0-SNAPSHOT.jar:'cli/target/lib/*' dev.armor.bench.NettyPlainRelay \
 *     LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT
 * </pre>
 *
 * Like the daemons' relay: both sockets of a connection on one event loop, one event loop per processor, reads
 * written as they come and flushed at the end of each read burst.
 */
public final class NettyPlainRelay {

  private NettyPlainRelay() {}

  public static void main(String[] args) throws InterruptedException {
    InetSocketAddress target = new InetSocketAddress(args[2], Integer.parseInt(args[3]));
    EventLoopGroup loops = new EpollEventLoopGroup(Runtime.getRuntime().availableProcessors());
    new ServerBootstrap().group(loops).channel(EpollServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.AUTO_READ, false) // read once the upstream side is connected
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel accepted) {
            new Bootstrap().group(accepted.eventLoop()).channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new Pipe(accepted))
                .connect(target)
                .addListener((ChannelFutureListener) connected -> {
                  if (!connected.isSuccess()) {
                    accepted.close();
                    return;
                  }
                  accepted.pipeline().addLast(new Pipe(connected.channel()));
                  accepted.config().setAutoRead(true);
                });
          }
        })
        .bind(args[0], Integer.parseInt(args[1])).sync();
    System.out.println("READY");
    System.out.flush();
    Thread.currentThread().join();
  }

  /** Passes what one side reads to the other; a close of one closes both. */
  private static final class Pipe extends ChannelInboundHandlerAdapter {
    private final Channel peer;

    Pipe(Channel peer) {
      this.peer = peer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      peer.write(message, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      peer.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
