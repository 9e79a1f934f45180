package dev.armor.systemtest.apps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code SlowHttpServer PORT [--tls KEYSTORE]}: the JDK's own HTTP server, unmodified ({@code HttpsServer} with the key
 * in the PKCS12 {@code KEYSTORE}, password {@value #STORE_PASSWORD}, with {@code --tls}). {@code GET /fast} answers
 * "fast" at once; {@code GET /slow} prints {@code SLOW} and answers "slow" after 3 s (a request still in flight when it
 * is killed).
 */
public final class SlowHttpServer {

  /** The password of the test's key store. */
  public static final String STORE_PASSWORD = "armor-test";

  public static void main(String[] args) throws IOException, GeneralSecurityException {
    InetSocketAddress address = new InetSocketAddress(Integer.parseInt(args[0]));
    HttpServer server;
    if (args.length > 2 && args[1].equals("--tls")) {
      HttpsServer https = HttpsServer.create(address, 50);
      https.setHttpsConfigurator(new HttpsConfigurator(tls(Path.of(args[2]))));
      server = https;
    } else {
      server = HttpServer.create(address, 50);
    }
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

  /** A TLS context that shows the key in {@code store} and trusts its certificate (the client's side too). */
  public static SSLContext tls(Path store) throws IOException, GeneralSecurityException {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, STORE_PASSWORD.toCharArray());
    }
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, STORE_PASSWORD.toCharArray());
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(keys);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }
}
