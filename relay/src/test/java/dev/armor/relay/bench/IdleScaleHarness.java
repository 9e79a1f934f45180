package dev.armor.relay.bench;

import dev.armor.relay.Relay;
import dev.armor.relay.RelayConfig;
import dev.armor.relay.RelayConfig.LinkMode;
import dev.armor.relay.RelayListener;
import dev.armor.relay.Relays;
import dev.armor.relay.ServiceAddress;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;

/**
 * Not a test: how many idle connections one pair of relays (daemons) carries, and what each costs them, as the
 * benchmark's idle mode measures it (BenchClient idle), with the relays alone. Four JVMs: the client apps (N sockets),
 * the client's daemon, the server's daemon, and an echo server; each connection is proven with one echoed byte, then
 * held idle while the daemons' heap after a full GC ({@code jcmd GC.run}, {@code GC.heap_info}) and their open
 * descriptors ({@code /proc/PID/fd}) are read.
 *
 * <p>Run: {@code java -cp <test classpath> dev.armor.relay.bench.IdleScaleHarness run N dedicated|multiplexed|auto
 * [subnet-prefix]} (default prefix 127.0.21: the daemons on .2 and .3, the echo server on .4).
 */
public final class IdleScaleHarness {

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "run" -> run(Integer.parseInt(args[1]), args[2], args.length > 3 ? args[3] : "127.0.21");
      case "echo" -> echo(args[1]);
      case "server-daemon" -> serverDaemon(args[1], mode(args[2]), args[3], Integer.parseInt(args[4]), args[5],
          Integer.parseInt(args[6]));
      case "client-daemon" -> clientDaemon(args[1], mode(args[2]), args[3], Integer.parseInt(args[4]), args[5],
          Integer.parseInt(args[6]));
      case "clients" -> clients(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      default -> throw new IllegalArgumentException("unknown role " + args[0]);
    }
  }

  private static LinkMode mode(String name) {
    return LinkMode.valueOf(name.toUpperCase(Locale.ROOT));
  }

  // ---------------------------------------------------------------- orchestrator

  private static void run(int count, String links, String subnet) throws Exception {
    String serviceHost = subnet + ".2";
    int servicePort = 7700;
    List<Child> children = new ArrayList<>();
    try {
      Child echo = start(children, "echo", subnet + ".4");
      int echoPort = Integer.parseInt(echo.await("PORT ").split(" ")[1]);
      Child server = start(children, "server-daemon", subnet + ".3", links, serviceHost, "" + servicePort,
          subnet + ".4", "" + echoPort);
      int dataPort = Integer.parseInt(server.await("DATA ").split(" ")[1]);
      Child client = start(children, "client-daemon", serviceHost, links, serviceHost, "" + servicePort,
          subnet + ".3", "" + dataPort);
      int listener = Integer.parseInt(client.await("LISTENER ").split(" ")[1]);
      long[] before = {heapKib(client.pid()), heapKib(server.pid()), fds(client.pid()), fds(server.pid())};
      Child apps = start(children, "clients", "" + listener, "" + count, "4");
      String ready = apps.await("READY ");
      int reached = Integer.parseInt(ready.split(" ")[1]);
      long[] after = {heapKib(client.pid()), heapKib(server.pid()), fds(client.pid()), fds(server.pid())};
      System.out.println("links " + links + ": " + ready);
      System.out.printf(
          "client daemon: heap %d -> %d KiB (%.2f KiB per connection), descriptors %d -> %d (%.3f per connection)%n",
          before[0], after[0], (after[0] - before[0]) / (double) reached, before[2], after[2],
          (after[2] - before[2]) / (double) reached);
      System.out.printf(
          "server daemon: heap %d -> %d KiB (%.2f KiB per connection), descriptors %d -> %d (%.3f per connection)%n",
          before[1], after[1], (after[1] - before[1]) / (double) reached, before[3], after[3],
          (after[3] - before[3]) / (double) reached);
    } finally {
      for (Child child : children) {
        child.stop();
      }
    }
  }

  private record Child(Process process, BufferedReader out) {
    long pid() {
      return process.pid();
    }

    String await(String prefix) throws IOException {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      throw new IOException("child " + pid() + " ended before printing " + prefix);
    }

    void stop() throws InterruptedException {
      try {
        process.getOutputStream().close();
      } catch (IOException e) {
        // gone
      }
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }

  private static Child start(List<Child> children, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("java.class.path"),
        "-Dio.netty.leakDetection.level=disabled", "-Drelay.log.level=WARN", IdleScaleHarness.class.getName()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    Child child = new Child(process, out);
    children.add(child);
    return child;
  }

  private static long heapKib(long pid) throws Exception {
    String jcmd = System.getProperty("java.home") + "/bin/jcmd";
    exec(jcmd, "" + pid, "GC.run");
    String info = exec(jcmd, "" + pid, "GC.heap_info");
    Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
    if (!used.find()) {
      throw new IOException("no heap figure in " + info);
    }
    return Long.parseLong(used.group(1));
  }

  private static long fds(long pid) {
    String[] fds = new File("/proc/" + pid + "/fd").list();
    return fds == null ? -1 : fds.length;
  }

  private static String exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  private static void holdUntilStdinEnds() throws IOException {
    while (System.in.read() >= 0) {
      // the orchestrator closes our stdin to stop us
    }
  }

  // ---------------------------------------------------------------- roles

  private static void serverDaemon(String host, LinkMode links, String serviceHost, int servicePort, String appHost,
      int appPort) throws IOException {
    Relay relay = Relays.start(RelayConfig.defaults("n2", host).withLinks(links), RelayListener.NONE);
    relay.exposeLocalService(new ServiceAddress(serviceHost, servicePort), new InetSocketAddress(appHost, appPort),
        () -> CompletableFuture.completedFuture(true));
    System.out.println("DATA " + relay.dataAddress().getPort());
    System.out.flush();
    holdUntilStdinEnds();
    relay.close();
  }

  private static void clientDaemon(String host, LinkMode links, String serviceHost, int servicePort, String dataHost,
      int dataPort) throws IOException {
    Relay relay = Relays.start(RelayConfig.defaults("n1", host).withLinks(links), RelayListener.NONE);
    ServiceAddress service = new ServiceAddress(serviceHost, servicePort);
    relay.serviceLocated(service, new InetSocketAddress(dataHost, dataPort));
    System.out.println("LISTENER " + relay.openServiceListener(service));
    System.out.flush();
    holdUntilStdinEnds();
    relay.close();
  }

  /** One thread, non-blocking: echoes whatever arrives (one byte per connection here). */
  private static void echo(String host) throws IOException {
    Selector selector = Selector.open();
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(host, 0), 4096);
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    System.out.println("PORT " + ((InetSocketAddress) server.getLocalAddress()).getPort());
    System.out.flush();
    Thread stopper = new Thread(() -> {
      try {
        holdUntilStdinEnds();
      } catch (IOException e) {
        // ends anyway
      }
      System.exit(0);
    });
    stopper.setDaemon(true);
    stopper.start();
    ByteBuffer buf = ByteBuffer.allocate(4096);
    while (true) {
      selector.select();
      for (SelectionKey key : selector.selectedKeys()) {
        if (key.isAcceptable()) {
          for (SocketChannel ch = server.accept(); ch != null; ch = server.accept()) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
          }
        } else if (key.isReadable()) {
          SocketChannel ch = (SocketChannel) key.channel();
          buf.clear();
          int n;
          try {
            n = ch.read(buf);
          } catch (IOException e) {
            n = -1;
          }
          if (n < 0) {
            key.cancel();
            ch.close();
          } else {
            buf.flip();
            ch.write(buf); // one byte: always fits
          }
        }
      }
      selector.selectedKeys().clear();
    }
  }

  private static void clients(int port, int count, int threads) throws Exception {
    List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> openers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread opener = new Thread(() -> {
        while (failure.get() == null && next.getAndIncrement() < count) {
          try {
            Socket socket = new Socket("127.0.0.1", port);
            sockets.add(socket);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write('i');
            if (socket.getInputStream().read() != 'i') {
              throw new IOException("connection " + sockets.size() + ": no echo");
            }
          } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e);
          }
        }
      });
      opener.start();
      openers.add(opener);
    }
    for (Thread opener : openers) {
      opener.join();
    }
    Throwable error = failure.get();
    System.out.println("READY " + sockets.size() + (error == null ? "" : " first error: " + error));
    System.out.flush();
    holdUntilStdinEnds();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
