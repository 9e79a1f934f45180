package dev.armor.shim.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RouteCacheTest {
  private static final InetSocketAddress SERVICE = new InetSocketAddress("10.0.0.1", 5432);
  private static final InetSocketAddress OTHER = new InetSocketAddress("10.0.0.2", 80);

  private final AtomicLong nanos = new AtomicLong(Long.MAX_VALUE - 10); // near overflow: arithmetic must not care
  private final RouteCache cache = new RouteCache(nanos::get);

  @Test
  void viaAnswers_areKeptUntilCleared_andPointAtLoopback() {
    InetSocketAddress via = cache.putVia(SERVICE, 40001);
    nanos.addAndGet(3_600_000_000_000L);

    assertThat(cache.get(SERVICE).via()).isEqualTo(via).isEqualTo(new InetSocketAddress("127.0.0.1", 40001));
    cache.clear();
    assertThat(cache.get(SERVICE)).isNull();
  }

  @Test
  void directAnswers_expireAfterASecond() {
    cache.putDirect(OTHER);
    nanos.addAndGet(RouteCache.DIRECT_TTL_NANOS - 1);
    assertThat(cache.get(OTHER).isDirect()).isTrue();

    nanos.addAndGet(1);
    assertThat(cache.get(OTHER)).isNull();
  }

  @Test
  void theDaemonsOwnListeners_areRecognised_onLoopbackOnly() throws Exception {
    cache.putVia(SERVICE, 40001);

    assertThat(cache.isDaemonListener(InetAddress.getByName("127.0.0.1"), 40001)).isTrue();
    assertThat(cache.isDaemonListener(InetAddress.getByName("127.0.0.1"), 40002)).isFalse();
    assertThat(cache.isDaemonListener(InetAddress.getByName("10.0.0.9"), 40001)).isFalse();
    cache.clear();
    assertThat(cache.isDaemonListener(InetAddress.getByName("127.0.0.1"), 40001)).isFalse();
  }
}
