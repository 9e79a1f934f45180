package dev.armor.relay.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.armor.relay.ServiceAddress;
import dev.armor.relay.testkit.Pattern;
import dev.armor.relay.testkit.RelayPair;
import dev.armor.relay.testkit.TestServer;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hold buffer is bounded: a client writing while held is pushed back by TCP, and nothing is dropped. */
@Timeout(value = 30, unit = SECONDS)
class HoldBufferTest {

  private static final ServiceAddress SERVICE = new ServiceAddress("127.0.0.2", 7100);
  private static final int HOLD_BOUND = 64 * 1024;
  private static final long TOTAL = 32L << 20;

  @Test
  void shouldBackPressureAClientWritingBeyondTheHoldBoundAndDeliverEverythingLater() throws Exception {
    try (RelayPair pair = new RelayPair(c -> c.withHoldBufferBytes(HOLD_BOUND));
        Socket client = pair.connect(SERVICE)) {
      AtomicLong written = new AtomicLong();
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  Pattern.write(client.getOutputStream(), TOTAL, written);
                  client.shutdownOutput();
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });

      // the writer blocks: its progress stops short of the total, kernel buffers and the hold bound full
      await()
          .atMost(10, SECONDS)
          .pollInterval(Duration.ofMillis(50))
          .until(progressStalled(written), stalled -> stalled);
      assertThat(writer).isNotDone();
      assertThat(written.get()).isLessThan(TOTAL);
      NettyRelay clientRelay = (NettyRelay) pair.client;
      String id = pair.clientSide(client).orElseThrow().id();
      long held = clientRelay.clientConnection(id).orElseThrow().heldBytes();
      assertThat(held).isGreaterThanOrEqualTo(HOLD_BOUND).isLessThanOrEqualTo(HOLD_BOUND + 64 * 1024);

      AtomicLong received = new AtomicLong();
      try (TestServer sink =
          TestServer.start((socket, in, out) -> received.set(Pattern.verify(in, null)))) {
        pair.expose(SERVICE, sink);
        writer.get(20, SECONDS);
        await().atMost(20, SECONDS).until(() -> received.get() == TOTAL);
        assertThat(sink.results.peek().error()).isNull();
      }
    }
  }

  /** True once {@code counter} did not move for 300 ms. */
  private static java.util.concurrent.Callable<Boolean> progressStalled(AtomicLong counter) {
    long[] last = {-1};
    long[] since = {System.nanoTime()};
    return () -> {
      long now = System.nanoTime();
      long value = counter.get();
      if (value != last[0]) {
        last[0] = value;
        since[0] = now;
        return false;
      }
      return value > 0 && now - since[0] > 300_000_000L;
    };
  }
}
