package dev.armor.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernel says of a shimmed app's process ({@code /proc/PID}), so the liveness probe need not ask the app.
 *
 * <p>Why it can stand for "the app is alive" when the relay has just seen one of the app's connections end. A
 * process that dies (a signal, {@code exit}, a halt) first marks every one of its threads exiting ({@code
 * PF_EXITING}, set in {@code do_exit} before anything is released and never cleared) and only then, when its last
 * thread drops the file table, are its sockets closed, which is what the relay sees as end of stream or reset. So if,
 * after such an end, the process is still there, not a zombie and not exiting, the end was not its death: the app
 * closed the connection itself. Anything else (gone, zombie, exiting, unreadable) proves nothing here, and the caller
 * asks the app as before. The answer is only trusted for a pid the daemon has checked is really its shimmed app
 * ({@link #isShimmedBy}): a shim in another pid namespace reports a pid that means another process here.
 *
 * <p>Costs one small read of {@code /proc/PID/stat} instead of a ping round trip through the app's shim (three thread
 * wake-ups, about half a millisecond per closed connection on a loaded machine). A daemon keeps the file open per
 * app ({@link StatFile}) and re-reads it in place: open, read and close of the path cost about 24 µs a time here,
 * one positioned read about 5.5 µs (2026-11-24, JDK 17), and this runs on a relay event loop once per connection an
 * app closes (10 % of the server daemon's CPU in a connect/close loop before).
 */
final class AppProcess {

  /** {@code PF_EXITING} in the flags field of {@code /proc/PID/stat} (include/linux/sched.h). */
  static final long PF_EXITING = 0x4;

  private AppProcess() {}

  /**
   * {@code /proc/PID/stat} of one process, kept open: each {@link #runningAndNotExiting()} re-reads it from offset
   * 0 (the kernel generates it anew on every read). The descriptor stays bound to that process: once it has been
   * reaped the read fails ({@code ESRCH}), so a recycled pid is never mistaken for it. Thread-safe (positioned reads).
   */
  static final class StatFile implements java.io.Closeable {
    private final java.nio.channels.FileChannel channel;

    private StatFile(java.nio.channels.FileChannel channel) {
      this.channel = channel;
    }

    /** The open file, or null when the process is gone or {@code /proc} cannot be read (then nothing is proven). */
    static StatFile open(long pid) {
      try {
        return new StatFile(java.nio.channels.FileChannel.open(Path.of("/proc", Long.toString(pid), "stat")));
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }

    /**
     * True when the process exists, is not a zombie and is not exiting; false when it is not, or unknown (reaped,
     * unreadable).
     */
    boolean runningAndNotExiting() {
      java.nio.ByteBuffer contents = java.nio.ByteBuffer.allocate(1024); // a stat line is about 300 bytes
      try {
        int read = channel.read(contents, 0);
        return read > 0
            && AppProcess.runningAndNotExiting(new String(contents.array(), 0, read, StandardCharsets.ISO_8859_1));
      } catch (IOException | RuntimeException e) {
        return false; // reaped, or closed under us: unknown
      }
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing held beyond the descriptor, which is released either way
      }
    }
  }

  /** As {@link StatFile#runningAndNotExiting()}, from the contents of {@code /proc/PID/stat}. */
  static boolean runningAndNotExiting(String stat) {
    // pid (comm) state ppid pgrp session tty_nr tpgid flags ...; comm may hold spaces and parentheses
    int afterName = stat.lastIndexOf(')');
    if (afterName < 0) {
      return false;
    }
    String[] fields = stat.substring(afterName + 1).trim().split(" ");
    if (fields.length < 7 || fields[0].length() != 1) {
      return false;
    }
    char state = fields[0].charAt(0);
    if (state == 'Z' || state == 'X' || state == 'x') {
      return false;
    }
    long flags;
    try {
      flags = Long.parseLong(fields[6]);
    } catch (NumberFormatException e) {
      return false;
    }
    return (flags & PF_EXITING) == 0;
  }

  /**
   * Whether process {@code pid} was started with this daemon's shim ({@code socket=SHIM_SOCKET} in its command line
   * or environment): then the pid its shim reported is the process this daemon sees under that number.
   */
  static boolean isShimmedBy(long pid, Path shimSocket) {
    byte[] mark = ("socket=" + shimSocket).getBytes(StandardCharsets.UTF_8);
    for (String file : new String[] {"cmdline", "environ"}) {
      try {
        if (contains(Files.readAllBytes(Path.of("/proc", Long.toString(pid), file)), mark)) {
          return true;
        }
      } catch (IOException | RuntimeException e) {
        // gone, or not ours to read: not proven
      }
    }
    return false;
  }

  /** Whether {@code needle} occurs in {@code haystack} (a command line or environment read from /proc). */
  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
