package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code LineRequestClient HOST PORT}: a plain blocking {@link Socket} client of a line protocol, as a simple app or a
 * pool keeps one: one connection, each request a line and its answer a line, no timeouts; after an error it closes the
 * connection and opens a new one for the next request. Reads requests from stdin, one per line; prints {@code
 * ANSWERED request answer ms} or {@code ERROR request type=CLASS message=... ms} (the end of the stream is an
 * {@code java.io.EOFException}, as most clients report it).
 */
public final class LineRequestClient {

  public static void main(String[] args) throws Exception {
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Socket socket = null;
    BufferedReader answers = null;
    System.out.println("READY");
    System.out.flush();
    for (String request = commands.readLine(); request != null; request = commands.readLine()) {
      long start = System.nanoTime();
      try {
        if (socket == null) {
          socket = new Socket(args[0], Integer.parseInt(args[1]));
          answers = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }
        OutputStream out = socket.getOutputStream();
        out.write((request + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String answer = answers.readLine();
        if (answer == null) {
          throw new EOFException("the server ended the connection");
        }
        System.out.println("ANSWERED " + request + " " + answer.strip() + " " + (System.nanoTime() - start) / 1_000_000);
      } catch (Exception e) {
        System.out.println("ERROR " + request + " type=" + e.getClass().getName() + " message=" + e.getMessage() + " "
            + (System.nanoTime() - start) / 1_000_000);
        if (socket != null) {
          socket.close();
        }
        socket = null;
      }
      System.out.flush();
    }
  }
}
