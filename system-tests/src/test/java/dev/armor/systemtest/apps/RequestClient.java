package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code RequestClient HOST PORT SECONDS}: sends {@code request-i} lines over one connection, one at a time, and
 * checks each answer is {@link HashServer}'s hash of it (the part before a space). Prints {@code ANSWERED n} every
 * 100 ms; a wrong or missing answer prints {@code ERROR} and exits 1, as do EOF and I/O errors;
 * {@code DONE answered=n} and exit 0 at the end.
 */
public final class RequestClient {

  public static void main(String[] args) throws Exception {
    long end = System.currentTimeMillis() + Long.parseLong(args[2]) * 1000;
    try (Socket socket = new Socket(args[0], Integer.parseInt(args[1]))) {
      System.out.println("CONNECTED remote=" + socket.getRemoteSocketAddress());
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = socket.getOutputStream();
      long answered = 0;
      long lastReport = 0;
      while (System.currentTimeMillis() < end) {
        String request = "request-" + answered;
        out.write((request + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String reply = in.readLine();
        if (reply == null) {
          System.out.println("EOF");
          System.exit(1);
        }
        String hash = reply.split(" ")[0];
        if (!hash.equals(HashServer.answer(request, false))) {
          System.out.println("ERROR type=mismatch message=wrong answer to " + request + ": " + reply);
          System.exit(1);
        }
        answered++;
        if (System.currentTimeMillis() - lastReport >= 100) {
          lastReport = System.currentTimeMillis();
          System.out.println("ANSWERED " + answered);
        }
        Thread.sleep(2);
      }
      System.out.println("DONE answered=" + answered);
      System.exit(0);
    } catch (IOException e) {
      System.out.println("ERROR type=" + e.getClass().getName() + " message=" + e.getMessage());
      System.exit(1);
    }
  }
}
