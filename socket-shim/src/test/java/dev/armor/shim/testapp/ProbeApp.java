package dev.armor.shim.testapp;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.Channels;
import java.nio.channels.CompletionHandler;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The unmodified app the agent tests run in a child JVM: it knows nothing of Armor. Each argument is a command
 * {@code name[:host:port]} run in order; each prints one line, {@code OK name key=value...} or {@code ERR name
 * ExceptionClass: message}, and {@code DONE} follows the last. Servers answer each line {@code x} with {@code
 * app:x} and print {@code ACCEPTED name peer=... localPort=...} per connection.
 */
public final class ProbeApp {
  private static final List<Closeable> servers = new ArrayList<>();
  /** The local port the next connects bind to before connecting ({@code from:PORT}); 0: the kernel chooses. */
  private static int bindFrom;

  private ProbeApp() {}

  public static void main(String[] args) throws Exception {
    for (String command : args) {
      String name = command.split(":", 2)[0];
      try {
        print("OK " + name + " " + run(command));
      } catch (Exception | LinkageError e) {
        print("ERR " + name + " " + e.getClass().getName() + ": " + e.getMessage());
      }
    }
    print("DONE");
  }

  private static String run(String command) throws Exception {
    String[] parts = command.split(":");
    switch (parts[0]) {
      case "socket":
        return socket(address(parts));
      case "channel":
        return channel(address(parts));
      case "nbchannel":
        return nonBlockingChannel(address(parts));
      case "adaptor":
        return adaptor(address(parts));
      case "async":
        return async(address(parts));
      case "udp":
        return udp(address(parts));
      case "serve-socket":
        return serveSocket(address(parts));
      case "serve-channel":
        return serveChannel(address(parts));
      case "serve-async":
        return serveAsync(address(parts));
      case "close-servers":
        return closeServers();
      case "netty-serve":
        return NettyProbe.serve(parts[1], Integer.parseInt(parts[2]), servers);
      case "netty-connect":
        return NettyProbe.connect(parts[1], Integer.parseInt(parts[2]));
      case "classes":
        return classes();
      case "bytebuddy":
        return ByteBuddyProbe.probe();
      case "properties":
        return properties();
      case "pid":
        return "pid=" + ProcessHandle.current().pid();
      case "wait":
        return waitForQuit();
      case "slow-exit":
        return slowExit(Long.parseLong(parts[1]));
      case "from":
        bindFrom = Integer.parseInt(parts[1]);
        return "port=" + bindFrom;
      default:
        throw new IllegalArgumentException("unknown command " + command);
    }
  }

  /** At exit, a shutdown hook that takes {@code millis}, saying when it starts and ends. */
  private static String slowExit(long millis) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      print("HOOK started");
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      print("HOOK done");
    }));
    return "hook=" + millis;
  }

  private static InetSocketAddress address(String[] parts) {
    return new InetSocketAddress(parts[1], Integer.parseInt(parts[2]));
  }

  private static String socket(InetSocketAddress target) throws IOException {
    try (Socket socket = new Socket()) {
      if (bindFrom != 0) {
        socket.setReuseAddress(true);
        socket.bind(localFrom());
      }
      socket.connect(target, 5000);
      String reply = exchange(socket);
      return "remote=" + socket.getRemoteSocketAddress() + " inet=" + socket.getInetAddress() + " port="
          + socket.getPort() + " reply=" + reply;
    }
  }

  private static String channel(InetSocketAddress target) throws IOException {
    try (SocketChannel channel = bound(SocketChannel.open())) {
      channel.connect(target);
      return "remote=" + channel.getRemoteAddress() + " reply=" + exchange(channel.socket());
    }
  }

  private static String nonBlockingChannel(InetSocketAddress target) throws IOException {
    try (SocketChannel channel = bound(SocketChannel.open()); Selector selector = Selector.open()) {
      channel.configureBlocking(false);
      boolean immediate = channel.connect(target);
      if (!immediate) {
        channel.register(selector, SelectionKey.OP_CONNECT);
        selector.select(5000);
        if (!channel.finishConnect()) {
          throw new IOException("non-blocking connect did not finish in 5 s");
        }
      }
      String remote = String.valueOf(channel.getRemoteAddress());
      channel.write(ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.UTF_8)));
      channel.keyFor(selector);
      selector.close();
      channel.configureBlocking(true);
      return "immediate=" + immediate + " remote=" + remote + " reply=" + readLine(channel);
    }
  }

  private static String adaptor(InetSocketAddress target) throws IOException {
    try (SocketChannel channel = bound(SocketChannel.open())) {
      channel.socket().connect(target, 5000);
      return "remote=" + channel.getRemoteAddress() + " reply=" + exchange(channel.socket());
    }
  }

  private static String async(InetSocketAddress target) throws Exception {
    try (AsynchronousSocketChannel channel = AsynchronousSocketChannel.open()) {
      if (bindFrom != 0) {
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        channel.bind(localFrom());
      }
      channel.connect(target).get(5, TimeUnit.SECONDS);
      channel.write(ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
      ByteBuffer reply = ByteBuffer.allocate(64);
      while (reply.position() == 0 || reply.get(reply.position() - 1) != '\n') {
        channel.read(reply).get(5, TimeUnit.SECONDS);
      }
      String line = new String(reply.array(), 0, reply.position() - 1, StandardCharsets.UTF_8);
      return "remote=" + channel.getRemoteAddress() + " reply=" + line;
    }
  }

  /** {@code channel}, bound to {@link #bindFrom} first if a {@code from:PORT} asked for it. */
  private static SocketChannel bound(SocketChannel channel) throws IOException {
    if (bindFrom != 0) {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(localFrom());
    }
    return channel;
  }

  /** The local port the next connects bind to ({@code from:PORT}), 0 for the kernel's choice. */
  static int bindFrom() {
    return bindFrom;
  }

  private static InetSocketAddress localFrom() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), bindFrom);
  }

  private static String udp(InetSocketAddress target) throws IOException {
    try (DatagramChannel channel = DatagramChannel.open()) {
      channel.connect(target);
      return "remote=" + channel.getRemoteAddress();
    }
  }

  private static String serveSocket(InetSocketAddress requested) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(requested);
    servers.add(server);
    start("serve-socket", () -> {
      while (true) {
        Socket socket = server.accept();
        print("ACCEPTED serve-socket peer=" + socket.getRemoteSocketAddress() + " localPort=" + socket.getLocalPort()
            + " local=" + socket.getLocalSocketAddress());
        serveEcho(socket);
      }
    });
    return "localPort=" + server.getLocalPort() + " inet=" + server.getInetAddress() + " local="
        + server.getLocalSocketAddress();
  }

  private static String serveChannel(InetSocketAddress requested) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(requested);
    servers.add(server);
    start("serve-channel", () -> {
      while (true) {
        SocketChannel channel = server.accept();
        print("ACCEPTED serve-channel peer=" + channel.getRemoteAddress() + " localPort=" + channel.socket().getLocalPort()
            + " local=" + channel.getLocalAddress() + " socketLocal=" + channel.socket().getLocalSocketAddress());
        serveEcho(channel.socket());
      }
    });
    return "local=" + server.getLocalAddress() + " localPort=" + server.socket().getLocalPort();
  }

  private static String serveAsync(InetSocketAddress requested) throws IOException {
    AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open();
    server.bind(requested);
    servers.add(server);
    server.accept(null, new CompletionHandler<AsynchronousSocketChannel, Object>() {
      @Override
      public void completed(AsynchronousSocketChannel channel, Object attachment) {
        server.accept(null, this);
        try {
          print("ACCEPTED serve-async peer=" + channel.getRemoteAddress() + " local=" + channel.getLocalAddress());
        } catch (IOException e) {
          print("ACCEPTED serve-async failed " + e);
        }
        serveEcho(channel, Channels.newInputStream(channel), Channels.newOutputStream(channel));
      }

      @Override
      public void failed(Throwable failure, Object attachment) {
        // the server was closed
      }
    });
    return "local=" + server.getLocalAddress();
  }

  private static String closeServers() throws IOException {
    for (Closeable server : servers) {
      server.close();
    }
    int closed = servers.size();
    servers.clear();
    return "closed=" + closed;
  }

  private static String classes() {
    StringBuilder visible = new StringBuilder();
    for (String name : List.of("net.bytebuddy.ByteBuddy", "dev.armor.shim.internal.ShimRuntime",
        "dev.armor.shim.control.ShimWire", "dev.armor.shim.Agent")) {
      visible.append(name).append('=').append(isVisible(name, ProbeApp.class.getClassLoader())).append(' ');
    }
    visible.append("hooks=").append(isVisible("sun.nio.ch.ArmorShimHooks", null));
    return visible.toString();
  }

  private static String properties() {
    StringBuilder values = new StringBuilder();
    for (String name : List.of("io.netty.transport.noNative", "io.grpc.netty.shaded.io.netty.transport.noNative",
        "net.bytebuddy.nexus.disabled")) {
      values.append(name).append('=').append(System.getProperty(name)).append(' ');
    }
    return values.toString().trim();
  }

  private static boolean isVisible(String name, ClassLoader loader) {
    try {
      Class.forName(name, false, loader);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static String waitForQuit() throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("quit")) {
        return "quit";
      }
    }
    return "eof";
  }

  private static String exchange(Socket socket) throws IOException {
    PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
    out.println("ping");
    return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
  }

  private static String readLine(SocketChannel channel) throws IOException {
    return new BufferedReader(new InputStreamReader(channel.socket().getInputStream(), StandardCharsets.UTF_8)).readLine();
  }

  private static void serveEcho(Socket socket) {
    try {
      serveEcho(socket, socket.getInputStream(), socket.getOutputStream());
    } catch (IOException closed) {
      // the connection is already gone
    }
  }

  private static void serveEcho(Closeable connection, InputStream input, OutputStream output) {
    start("echo", () -> {
      try (connection) {
        BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(output, true, StandardCharsets.UTF_8);
        for (String line; (line = in.readLine()) != null; ) {
          out.println("app:" + line);
        }
      }
    });
  }

  private interface Body {
    void run() throws IOException;
  }

  private static void start(String name, Body body) {
    Thread thread = new Thread(() -> {
      try {
        body.run();
      } catch (IOException e) {
        // the server or connection was closed
      }
    }, name);
    thread.setDaemon(true);
    thread.start();
  }

  static synchronized void print(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
