package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code HttpRequestClient HOST PORT [--tls KEYSTORE]}: the JDK's own {@code HttpClient} (HTTPS with {@code --tls},
 * trusting the certificate in the server's key store: see {@link SlowHttpServer}), with its defaults (no request timeout: it
 * waits forever for an answer that never comes; it retries a GET, never a POST, once on a connection that fails).
 * Reads requests from stdin, one per line ({@code /path} for a GET, {@code POST /path} for an empty POST), and sends
 * each on its keep-alive connection; prints {@code ANSWERED request status=CODE body ms} or {@code ERROR request type=...
 * message=... ms}.
 */
public final class HttpRequestClient {

  public static void main(String[] args) throws Exception {
    boolean tls = args.length > 3 && args[2].equals("--tls");
    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
    if (tls) {
      builder.sslContext(SlowHttpServer.tls(Path.of(args[3])));
    }
    HttpClient client = builder.build();
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("READY");
    System.out.flush();
    for (String path = commands.readLine(); path != null; path = commands.readLine()) {
      long start = System.nanoTime();
      boolean post = path.startsWith("POST ");
      HttpRequest.Builder request = HttpRequest.newBuilder(
          URI.create((tls ? "https://" : "http://") + args[0] + ":" + args[1] + (post ? path.substring(5) : path)));
      try {
        HttpResponse<String> response = client.send(
            (post ? request.POST(HttpRequest.BodyPublishers.noBody()) : request.GET()).build(),
            HttpResponse.BodyHandlers.ofString());
        System.out.println("ANSWERED " + path + " status=" + response.statusCode() + " " + response.body().strip() + " "
            + (System.nanoTime() - start) / 1_000_000);
      } catch (Exception e) {
        System.out.println("ERROR " + path + " type=" + e.getClass().getName() + " message=" + e.getMessage() + " "
            + (System.nanoTime() - start) / 1_000_000);
      }
      System.out.flush();
    }
  }
}
