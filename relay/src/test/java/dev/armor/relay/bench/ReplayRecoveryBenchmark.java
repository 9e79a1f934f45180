package dev.armor.relay.bench;

import dev.armor.relay.RecoveryPolicy;
import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;

/**
 * Not a test: {@code main} measures how long a re-attach takes when the client's stream must be replayed to the
 * restarted server: the server acknowledges every 64 KiB block with one byte; after the client sent X bytes, the
 * server "crashes" and a new instance is exposed at once (no process start: this isolates the relay's part); the
 * figure is the time from the crash to the client's first byte from the new instance, for a block sent after it
 * (so under replay: X bytes replayed, X/64Ki acknowledgements dropped as duplicates, then the new one). Reconnect
 * is measured the same way as the baseline. Run like {@link RoundTripBenchmark}; everything shares one JVM.
 */
public final class ReplayRecoveryBenchmark {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7001);
  private static final int BLOCK = 64 * 1024;
  private static final int RUNS = 5;

  /** One byte per 64 KiB block received: deterministic for a given client stream. */
  private static final TestServer.Behaviour ACKER =
      (socket, in, out) -> {
        byte[] buffer = new byte[BLOCK];
        long received = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
          long before = received / BLOCK;
          received += n;
          for (long b = before; b < received / BLOCK; b++) {
            out.write((int) (b & 0xff));
          }
          out.flush();
        }
      };

  public static void main(String[] args) throws Exception {
    System.out.println("| policy | replayed | recovery p50 (ms) | min | max |");
    System.out.println("|---|---:|---:|---:|---:|");
    for (long mib : new long[] {1, 8, 16}) {
      long bytes = mib == 8 ? (8L << 20) - 2 * BLOCK : mib << 20; // "8" = just inside the default 8 MiB bound
      for (RecoveryPolicy policy : RecoveryPolicy.values()) {
        double[] millis = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
          millis[run] = recover(policy, bytes);
        }
        Arrays.sort(millis);
        System.out.printf("| %s | %s | %.1f | %.1f | %.1f |%n", policy.name().toLowerCase(java.util.Locale.ROOT),
            mib == 8 ? "8 MiB - 128 KiB (default bound)" : mib + " MiB", millis[RUNS / 2], millis[0], millis[RUNS - 1]);
      }
    }
  }

  private static double recover(RecoveryPolicy policy, long bytes) throws Exception {
    int logBytes = (int) Math.max(8 << 20, bytes + (4 << 20));
    try (RelayPair pair = new RelayPair(c -> c.withReplayLogBytes(logBytes))) {
      pair.policy = policy;
      TestServer first = TestServer.start(ACKER);
      pair.expose(SERVICE, first);
      try (Socket client = pair.connect(SERVICE)) {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        byte[] block = new byte[BLOCK];
        for (long sent = 0; sent < bytes; sent += BLOCK) {
          out.write(block);
        }
        in.readNBytes((int) (bytes / BLOCK)); // every block acknowledged by the first instance
        long crashedAt = System.nanoTime();
        pair.serverAppAlive.set(false);
        first.crash();
        // The daemon's probe sees the dead process; only then is a new instance there (a live probe would pass
        // the crash on as the app resetting its connection).
        while (pair.clientEvents.events.stream().noneMatch(e -> e.kind().equals("held"))) {
          Thread.sleep(1);
        }
        TestServer second = TestServer.start(ACKER);
        pair.serverAppAlive.set(true);
        pair.restartedOn(SERVICE, second);
        out.write(block);
        if (in.read() < 0) {
          throw new IOException("end of stream after the restart");
        }
        double millis = (System.nanoTime() - crashedAt) / 1e6;
        second.close();
        first.close();
        return millis;
      }
    }
  }
}
