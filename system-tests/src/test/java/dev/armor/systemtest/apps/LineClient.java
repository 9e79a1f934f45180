package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code LineClient HOST PORT SECONDS [--nio]}: one connection for its whole life; sends a numbered line every
 * 20 ms and prints each echo: {@code ECHO seq=N pid=P sent=T0 recv=T1} (epoch ms). Ends with
 * {@code DONE sent=N received=M} and exit 0, or {@code ERROR type=... message=...} / {@code EOF} and exit 1. It
 * never reconnects.
 */
public final class LineClient {

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    boolean nio = args.length > 3 && args[3].equals("--nio");
    InputStream in;
    OutputStream out;
    try {
      if (nio) {
        SocketChannel channel = SocketChannel.open(new InetSocketAddress(host, port));
        System.out.println("CONNECTED remote=" + channel.getRemoteAddress());
        // Not Channels.newInputStream: on JDK 17 its read holds the channel's blocking lock, stalling the writer.
        in = new ChannelIn(channel);
        out = new ChannelOut(channel);
      } else {
        Socket socket = new Socket(host, port);
        System.out.println("CONNECTED remote=" + socket.getRemoteSocketAddress());
        in = socket.getInputStream();
        out = socket.getOutputStream();
      }
    } catch (IOException e) {
      fail(e);
      return;
    }
    AtomicLong sent = new AtomicLong();
    AtomicLong received = new AtomicLong();
    Thread reader = new Thread(() -> read(in, out, received), "reader");
    reader.setDaemon(true);
    reader.start();
    long end = System.currentTimeMillis() + seconds * 1000;
    try {
      while (System.currentTimeMillis() < end) {
        long n = sent.incrementAndGet();
        synchronized (out) {
          out.write((n + " " + System.currentTimeMillis() + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
        Thread.sleep(20);
      }
    } catch (IOException e) {
      fail(e);
    }
    System.out.println("DONE sent=" + sent.get() + " received=" + received.get());
    System.out.flush();
    System.exit(0);
  }

  private static void read(InputStream in, OutputStream out, AtomicLong received) {
    // Not closed on the way out: closing would close the socket before fail() reports why the read failed, and the
    // writer would then report its own "Socket closed" first. The process exits either way.
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    try {
      String line;
      while ((line = lines.readLine()) != null) {
        String[] words = line.split(" ");
        received.incrementAndGet();
        System.out.println("ECHO seq=" + words[1] + " pid=" + words[0] + " sent=" + words[2] + " recv=" + System.currentTimeMillis());
      }
      // An end of stream is a FIN, or a reset whose error the writer's write consumed first (a read of a reset socket
      // then returns an end): a write tells them apart, as it succeeds after a FIN and fails after a reset (HeldClientTest
      // once saw EOF for the reset it waits for).
      synchronized (out) {
        out.write('\n');
        out.flush();
      }
      System.out.println("EOF");
      System.out.flush();
      System.exit(1);
    } catch (IOException e) {
      fail(e);
    }
  }

  /** Reads straight from a blocking channel, so a concurrent write is not locked out. */
  private static final class ChannelIn extends InputStream {
    private final SocketChannel channel;

    ChannelIn(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return channel.read(ByteBuffer.wrap(b, off, len));
    }
  }

  /** Writes straight to a blocking channel. */
  private static final class ChannelOut extends OutputStream {
    private final SocketChannel channel;

    ChannelOut(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }
  }

  private static void fail(IOException e) {
    System.out.println("ERROR type=" + e.getClass().getName() + " message=" + e.getMessage());
    System.out.flush();
    System.exit(1);
  }
}
