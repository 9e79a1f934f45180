package dev.armor.relay.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder standing in for the network to a daemon: forwards both ways until {@link #freeze()}, from then on
 * swallows everything and answers nothing, keeping every socket open (a node cut off: no FIN, no reset, ever).
 */
public final class Blackhole implements AutoCloseable {

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean frozen;
  /** Connections whose near side (the relay that connected) closed: counted once per accepted connection. */
  public final AtomicInteger nearSideClosed = new AtomicInteger();

  public Blackhole(String host, InetSocketAddress target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 50, InetAddress.getByName(host));
    Thread acceptor = new Thread(this::accept, "blackhole-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  /** From now on nothing passes, either way, and nothing is closed. */
  public void freeze() {
    frozen = true;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket near = listener.accept();
        Socket far = new Socket(target.getAddress(), target.getPort());
        sockets.add(near);
        sockets.add(far);
        pump(near, far, true);
        pump(far, near, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(Socket from, Socket to, boolean nearSide) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                  if (!frozen) {
                    out.write(buf, 0, n);
                  }
                }
              } catch (IOException e) {
                // closed
              }
              if (nearSide) {
                nearSideClosed.incrementAndGet();
              }
              if (!frozen) {
                try {
                  to.shutdownOutput();
                } catch (IOException e) {
                  // closed
                }
              }
            },
            "blackhole-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
