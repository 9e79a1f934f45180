package dev.armor.systemtest.apps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code SlowHttpServer PORT}: the JDK's own HTTP server, unmodified. {@code GET /fast} answers "fast" at once;
 * {@code GET /slow} prints {@code SLOW} and answers "slow" after 3 s (a request still in flight when it is killed).
 */
public final class SlowHttpServer {

  public static void main(String[] args) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 50);
    server.createContext("/fast", exchange -> answer(exchange, "fast"));
    server.createContext("/slow", exchange -> {
      System.out.println("SLOW");
      System.out.flush();
      try {
        Thread.sleep(3000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      answer(exchange, "slow");
    });
    server.start();
    System.out.println("LISTENING pid=" + ProcessHandle.current().pid());
    System.out.flush();
  }

  private static void answer(HttpExchange exchange, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
