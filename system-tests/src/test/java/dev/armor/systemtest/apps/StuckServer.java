package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A line server whose workers can deadlock while its process (and its shim) lives on: {@code StuckServer PORT}. An
 * accept thread hands each connection to a pool of worker threads; a worker reads a line and answers it. Lines:
 * {@code ping} answers {@code PONG pid=P}; {@code big N} answers N bytes of {@code x} then a newline; {@code stuck}
 * makes two threads take the server's two locks in opposite orders, a real deadlock, and every later request reads
 * its line and then waits for the first of those locks, as workers that share state do. Prints
 * {@code LISTENING pid=P} once bound.
 */
public final class StuckServer {

  private static final Object STATE = new Object();
  private static final Object JOURNAL = new Object();
  private static final ExecutorService WORKERS = Executors.newFixedThreadPool(8);

  public static void main(String[] args) throws IOException {
    long pid = ProcessHandle.current().pid();
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
      System.out.println("LISTENING pid=" + pid);
      while (true) {
        Socket client = server.accept();
        WORKERS.execute(() -> serve(client, pid));
      }
    }
  }

  private static void serve(Socket client, long pid) {
    try (client;
        BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
      OutputStream out = client.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("stuck")) {
          deadlock();
        }
        byte[] answer;
        synchronized (STATE) {
          answer = line.startsWith("big ")
              ? ("x".repeat(Integer.parseInt(line.substring(4))) + "\n").getBytes(StandardCharsets.US_ASCII)
              : ("PONG pid=" + pid + "\n").getBytes(StandardCharsets.US_ASCII);
        }
        out.write(answer);
        out.flush();
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  /** Takes STATE then JOURNAL while another thread takes JOURNAL then STATE: neither ever returns. */
  private static void deadlock() {
    CountDownLatch bothHoldOne = new CountDownLatch(2);
    Thread other = new Thread(() -> {
      synchronized (JOURNAL) {
        bothHoldOne.countDown();
        await(bothHoldOne);
        synchronized (STATE) {
          System.out.println("never");
        }
      }
    }, "journal-writer");
    other.start();
    synchronized (STATE) {
      System.out.println("DEADLOCKING");
      bothHoldOne.countDown();
      await(bothHoldOne);
      synchronized (JOURNAL) {
        System.out.println("never");
      }
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
