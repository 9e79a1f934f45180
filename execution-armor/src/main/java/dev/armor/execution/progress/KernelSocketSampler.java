package dev.armor.execution.progress;

import dev.armor.elements.wire.AppSocket;
import dev.armor.elements.wire.AppSockets;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Samples a process's sockets on Linux. Its sockets are the inodes its file descriptors (and its descendants': a
 * command run through a shell has the JVM as a child) point at, from {@code /proc/PID/fd}; its listeners, with their
 * accept queues, from {@code /proc/net/tcp} and {@code tcp6}; the connections they accepted, with the kernel's
 * per-connection counters ({@code tcp_info}: bytes received and acknowledged, time since the last data each way),
 * from iproute2's {@code ss}, which reads them over netlink, filtered to the listeners' ports. A connection still in
 * an accept queue belongs to no process yet: it is counted in its listener's queue.
 *
 * <p>One thread for every watch of the process (one Execution ARMOR watches one app): a sample takes a few
 * milliseconds, and the {@code ss} it runs is given {@link #SS_DEADLINE_SECONDS} before the sample is reported failed.
 */
final class KernelSocketSampler implements AppSocketSampler {

  private static final long SS_DEADLINE_SECONDS = 5;
  private static final int OUTPUT_LIMIT = 4 << 20; // one app's accepted connections; beyond this, the sample fails

  private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "armor-progress-sampler");
    thread.setDaemon(true);
    return thread;
  });

  @Override
  public Optional<String> unavailable() {
    if (!Files.isDirectory(Path.of("/proc/self/fd")) || !Files.isReadable(Path.of("/proc/net/tcp"))) {
      return Optional.of("the progress watch reads /proc (Linux), which this machine does not have");
    }
    try {
      run(List.of("ss", "-V"));
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("the progress watch needs iproute2's ss, which cannot run here: " + e.getMessage());
    }
  }

  @Override
  public CompletionStage<AppSockets> sample(long pid) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return take(pid);
      } catch (IOException | RuntimeException e) {
        return AppSockets.newBuilder().setPid(pid).setError(String.valueOf(e.getMessage())).build();
      }
    }, executor);
  }

  private static AppSockets take(long pid) throws IOException {
    Set<Long> inodes = socketInodes(pid);
    AppSockets.Builder sample = AppSockets.newBuilder().setPid(pid);
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (Files.isReadable(path)) {
        for (AppSocket listener : listeners(Files.readAllLines(path), inodes)) {
          sample.addSockets(listener);
          ports.add(listener.getLocalPort());
        }
      }
    }
    if (ports.isEmpty()) {
      return sample.build();
    }
    String filter = ports.stream().sorted().map(port -> "sport = :" + port).collect(Collectors.joining(" or ", "( ", " )"));
    for (AppSocket connection : connections(run(List.of("ss", "-tnHie", "state", "connected", filter)), inodes)) {
      sample.addSockets(connection);
    }
    return sample.build();
  }

  /** The socket inodes of {@code pid}'s and its descendants' file descriptors. */
  static Set<Long> socketInodes(long pid) {
    Set<Long> inodes = new HashSet<>();
    List<Long> pids = new ArrayList<>();
    pids.add(pid);
    ProcessHandle.of(pid).ifPresent(process -> process.descendants().forEach(child -> pids.add(child.pid())));
    for (long each : pids) {
      try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(each), "fd"))) {
        for (Path fd : fds) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[") && target.endsWith("]")) {
              inodes.add(Long.parseLong(target, 8, target.length() - 1, 10));
            }
          } catch (IOException | NumberFormatException e) {
            // closed while listed
          }
        }
      } catch (IOException e) {
        // the process exited while sampled
      }
    }
    return inodes;
  }

  /**
   * The listening sockets among {@code lines} of {@code /proc/net/tcp} or {@code tcp6} whose inode is in
   * {@code inodes}; a listener's receive queue there is its accept queue.
   */
  static List<AppSocket> listeners(List<String> lines, Set<Long> inodes) {
    List<AppSocket> listeners = new ArrayList<>();
    for (String line : lines) {
      String[] fields = line.trim().split("\\s+");
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      if (fields.length < 10 || !fields[3].equals("0A")) {
        continue; // the header, or not LISTEN
      }
      long inode;
      try {
        inode = Long.parseLong(fields[9]);
      } catch (NumberFormatException e) {
        continue;
      }
      if (!inodes.contains(inode)) {
        continue;
      }
      String local = fields[1];
      String queues = fields[4];
      listeners.add(AppSocket.newBuilder()
          .setInode(inode)
          .setListening(true)
          .setState("LISTEN")
          .setLocalPort(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16))
          .setReceiveQueue(Long.parseLong(queues.substring(queues.indexOf(':') + 1), 16))
          .build());
    }
    return listeners;
  }

  /**
   * The connections in {@code ss -tnHie} output whose inode is in {@code inodes}: each a line of state, queues,
   * addresses and {@code ino:N}, then an indented line of {@code tcp_info} fields.
   */
  static List<AppSocket> connections(String output, Set<Long> inodes) {
    List<AppSocket> connections = new ArrayList<>();
    AppSocket.Builder pending = null;
    for (String line : output.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (!Character.isWhitespace(line.charAt(0))) {
        if (pending != null) {
          connections.add(pending.build());
        }
        pending = mainLine(line.trim().split("\\s+"), inodes);
      } else if (pending != null) {
        for (String field : line.trim().split("\\s+")) {
          int colon = field.indexOf(':');
          if (colon < 0) {
            continue;
          }
          String key = field.substring(0, colon);
          String value = field.substring(colon + 1);
          switch (key) {
            case "bytes_received" -> pending.setBytesReceived(number(value));
            case "bytes_acked" -> pending.setBytesAcked(number(value));
            case "lastsnd" -> pending.setLastSendMillis(number(value));
            case "lastrcv" -> pending.setLastReceiveMillis(number(value));
            default -> { }
          }
        }
      }
    }
    if (pending != null) {
      connections.add(pending.build());
    }
    return connections;
  }

  /** A connection's first line ({@code STATE RECV-Q SEND-Q LOCAL PEER ino:N ...}), or null if not one of ours. */
  private static AppSocket.Builder mainLine(String[] fields, Set<Long> inodes) {
    if (fields.length < 6) {
      return null;
    }
    long inode = -1;
    for (int i = 5; i < fields.length; i++) {
      if (fields[i].startsWith("ino:")) {
        inode = number(fields[i].substring(4));
      }
    }
    if (!inodes.contains(inode)) {
      return null; // another process's, or one still in an accept queue (inode 0)
    }
    String local = fields[3];
    return AppSocket.newBuilder()
        .setInode(inode)
        .setState(fields[0])
        .setReceiveQueue(number(fields[1]))
        .setSendQueue(number(fields[2]))
        .setLocalPort((int) number(local.substring(local.lastIndexOf(':') + 1)))
        .setPeer(fields[4]);
  }

  private static long number(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Runs {@code command} with its output to a file, so that a deadline holds even when it hangs or writes more than a
   * pipe takes. The file is unlinked as soon as the command has started: the command writes and this process reads
   * through their open descriptors, so an Execution ARMOR killed in the middle of a sample leaves nothing in the
   * temporary directory (the tests kill them on purpose, and a real one may be killed at any time).
   */
  private static String run(List<String> command) throws IOException {
    Path output = Files.createTempFile("armor-progress-", ".out");
    try (FileChannel written = FileChannel.open(output, StandardOpenOption.READ)) {
      Process process;
      try {
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      } finally {
        Files.deleteIfExists(output);
      }
      try {
        if (!process.waitFor(SS_DEADLINE_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IOException(command.get(0) + " did not finish within " + SS_DEADLINE_SECONDS + " s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IOException("interrupted while running " + command.get(0), e);
      }
      if (written.size() > OUTPUT_LIMIT) {
        throw new IOException(command.get(0) + " wrote more than " + OUTPUT_LIMIT + " bytes");
      }
      String text = new String(Channels.newInputStream(written).readAllBytes(), StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed (exit status " + process.exitValue() + "): "
            + text.strip());
      }
      return text;
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
