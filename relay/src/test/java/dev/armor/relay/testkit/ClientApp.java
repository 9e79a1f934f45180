package dev.armor.relay.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A client app's connection, either a blocking {@link Socket} or a non-blocking NIO {@link SocketChannel} driven by
 * selectors (one for the reading thread, one for the writing thread), behind one blocking-style interface.
 */
public interface ClientApp extends AutoCloseable {

  /** Reads up to {@code len} bytes; -1 at end of stream. */
  int read(byte[] b, int off, int len) throws IOException;

  void write(byte[] b) throws IOException;

  void shutdownOutput() throws IOException;

  /** The local port, which the relay sees as the client's. */
  int localPort();

  @Override
  void close() throws IOException;

  /** Connects to the client relay's listener for the service: blocking socket or NIO channel. */
  static ClientApp connect(int listenerPort, boolean nio) throws IOException {
    InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), listenerPort);
    return nio ? new Nio(target) : new Blocking(target);
  }

  /** java.net.Socket. */
  final class Blocking implements ClientApp {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Blocking(InetSocketAddress target) throws IOException {
      socket = new Socket(target.getAddress(), target.getPort());
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return in.read(b, off, len);
    }

    @Override
    public void write(byte[] b) throws IOException {
      out.write(b);
    }

    @Override
    public void shutdownOutput() throws IOException {
      socket.shutdownOutput();
    }

    @Override
    public int localPort() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** java.nio: a non-blocking channel, with a selector per direction. */
  final class Nio implements ClientApp {
    private final SocketChannel channel;
    private final Selector readSelector;
    private final Selector writeSelector;
    private final int localPort;

    Nio(InetSocketAddress target) throws IOException {
      channel = SocketChannel.open(target);
      localPort = ((InetSocketAddress) channel.getLocalAddress()).getPort();
      channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      channel.configureBlocking(false);
      readSelector = Selector.open();
      writeSelector = Selector.open();
      channel.register(readSelector, SelectionKey.OP_READ);
      channel.register(writeSelector, SelectionKey.OP_WRITE);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      ByteBuffer buf = ByteBuffer.wrap(b, off, len);
      while (true) {
        int n = channel.read(buf);
        if (n != 0) {
          return n;
        }
        readSelector.select(1000);
        readSelector.selectedKeys().clear();
      }
    }

    @Override
    public void write(byte[] b) throws IOException {
      ByteBuffer buf = ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        if (channel.write(buf) == 0) {
          writeSelector.select(1000);
          writeSelector.selectedKeys().clear();
        }
      }
    }

    @Override
    public void shutdownOutput() throws IOException {
      channel.shutdownOutput();
    }

    @Override
    public int localPort() {
      return localPort;
    }

    @Override
    public void close() throws IOException {
      try {
        readSelector.close();
        writeSelector.close();
      } finally {
        channel.close();
      }
    }
  }
}
