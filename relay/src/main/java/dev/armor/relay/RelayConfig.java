package dev.armor.relay;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Settings of one {@link Relay}, validated once, here: an invalid value fails construction with a message that
 * names the setting, the rule and the bad value. Start from {@link #defaults(String, String)} and change what
 * differs with the {@code withX} methods.
 *
 * @param nodeName this daemon's node name; prefixes connection ids ({@code n1-17}). Letters, digits, '.', '_', '-'.
 * @param dataHost the address other daemons open links to: this node's own address (e.g. 127.0.0.2), a literal IP
 * @param dataPort the port of the data address; 0 (default) picks an ephemeral one, see {@link Relay#dataAddress()}
 * @param holdBufferBytes per client connection, how many bytes the client app may write while its connection is
 *     not attached before the relay stops reading from it (TCP backpressure; nothing is dropped). Default 1 MiB.
 * @param holdTimeout how long a connection waits for a server (first attach or recovery) before its client app
 *     gets a reset. Default 60 s.
 * @param writeBufferLowWaterMark once a socket's pending output falls below this, reading from the other socket of
 *     the pair resumes. Default 256 KiB.
 * @param writeBufferHighWaterMark once a socket's pending output exceeds this, reading from the other socket of the
 *     pair pauses: with the hold buffer, this bounds memory per connection (per direction: this plus one read, at
 *     most 256 KiB). Default 1 MiB: a bulk transfer crosses it once per megabyte rather than every 256 KiB (each
 *     crossing stops and restarts reading: two epoll_ctl calls and a pause in the pipeline); measured, the relay
 *     threads' CPU per GB fell by about a tenth against 64 KiB / 256 KiB.
 * @param livenessGrace how long the server side waits for a {@link LivenessProbe} answer when a server app ends a
 *     connection; no answer in time counts as alive (the close is passed on). Default 1 s.
 * @param connectTimeout timeout of TCP connects: link to another daemon, relay to a local app. Default 3 s.
 * @param retryBackoffMin first delay before retrying a lost connection's known location. Default 50 ms.
 * @param retryBackoffMax the retry delay doubles up to this. Default 1 s.
 * @param ioThreads event-loop threads; 0 (default) means one per available processor.
 * @param nativeTransport use Linux epoll when available (default true); false forces Java NIO.
 * @param replayLogBytes per client connection of a {@link RecoveryPolicy#REPLAY} service, how many bytes of what the
 *     client app sent the relay keeps to replay to a restarted server (the whole client-to-server stream). Default
 *     8 MiB. A connection that sends more no longer replays: see {@code replayOverflow}.
 * @param replayOverflow what a connection whose replay log outgrew its bound gets when its server is lost:
 *     {@link ReplayOverflow#RECONNECT} (default: re-attached as a fresh connection, with a logged warning) or
 *     {@link ReplayOverflow#RESET} (the client app's connection is reset). Until then it keeps working.
 * @param recoveryStallTimeout how long a recovered connection waits for the new instance to speak before the crash
 *     counts as one Armor cannot hide, and the client app gets the reset it would have had without Armor instead of
 *     waiting forever: during a replay, for output that reproduces what the client already has (a stall is a
 *     divergence); after a {@code reconnect} re-attachment, for any answer while the client waits on one. The wait
 *     is at least twice the longest the server took to start an answer on that connection. Default 5 s.
 * @param linkKeepalive kernel TCP keepalive on links between daemons: after this long idle the kernel probes the
 *     peer (every third of it, at least 1 s, 3 probes), and with epoll a link whose sent data stays unacknowledged
 *     for twice this long is dropped ({@code TCP_USER_TIMEOUT}). A link to a vanished node is then noticed (held,
 *     retried) without waiting for the FTM. Whole seconds, at least 1 s; zero turns it off. Default 10 s: well
 *     above a loaded machine's pauses, well below the minutes TCP alone would take. Costs nothing per message.
 *     With multiplexed links it applies to the shared connections.
 * @param links how this daemon's connections reach other daemons (the client side decides; a daemon accepts both):
 *     {@link LinkMode#DEDICATED} one TCP link per connection, {@link LinkMode#MULTIPLEXED} links as streams of a
 *     few shared TCP connections per daemon pair (one per event loop), {@link LinkMode#AUTO} (default) dedicated
 *     until the process's open descriptors pass half of its limit, multiplexed from then on.
 * @param dataPath {@link DataPath#DIRECT} (default): the client's daemon connects straight to the server app where
 *     it can (see there), one proxy on the path; {@link DataPath#RELAYED}: a connection's bytes pass through both
 *     daemons.
 */
public record RelayConfig(
    String nodeName,
    String dataHost,
    int dataPort,
    int holdBufferBytes,
    Duration holdTimeout,
    int writeBufferLowWaterMark,
    int writeBufferHighWaterMark,
    Duration livenessGrace,
    Duration connectTimeout,
    Duration retryBackoffMin,
    Duration retryBackoffMax,
    int ioThreads,
    boolean nativeTransport,
    int replayLogBytes,
    ReplayOverflow replayOverflow,
    Duration recoveryStallTimeout,
    Duration linkKeepalive,
    LinkMode links,
    DataPath dataPath) {

  /** Setting {@code replay-overflow}: what a connection past its replay-log bound falls back to. */
  public enum ReplayOverflow {
    /** Re-attach it as a fresh connection (the {@link RecoveryPolicy#RECONNECT} behaviour), with a warning. */
    RECONNECT,
    /** Reset the client app's connection when its server is lost (it cannot be recovered exactly). */
    RESET
  }

  public static final int DEFAULT_HOLD_BUFFER_BYTES = 1 << 20;
  public static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofSeconds(60);
  public static final int DEFAULT_WRITE_BUFFER_LOW_WATER_MARK = 256 * 1024;
  public static final int DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK = 1024 * 1024;
  public static final Duration DEFAULT_LIVENESS_GRACE = Duration.ofSeconds(1);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
  public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(50);
  public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofSeconds(1);
  public static final int DEFAULT_REPLAY_LOG_BYTES = 8 << 20;
  public static final ReplayOverflow DEFAULT_REPLAY_OVERFLOW = ReplayOverflow.RECONNECT;
  public static final Duration DEFAULT_RECOVERY_STALL_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_LINK_KEEPALIVE = Duration.ofSeconds(10);
  public static final LinkMode DEFAULT_LINKS = LinkMode.AUTO;
  public static final DataPath DEFAULT_DATA_PATH = DataPath.DIRECT;

  /** Setting {@code data-path}: which daemons a connection's bytes pass through. */
  public enum DataPath {
    /** Through both daemons: client app, client's daemon, link, server's daemon, server app. */
    RELAYED,
    /**
     * Through the client's daemon only: it connects straight to the server app, and the link to the server's daemon
     * carries control frames alone (the server's daemon still judges how the app ended a connection). Where the
     * server's daemon cannot offer it (the app listens on a loopback address the client's daemon does not share), or
     * while the links are multiplexed, the connection is relayed.
     */
    DIRECT
  }

  /** Setting {@code links}: one TCP connection per link, or links multiplexed over shared ones. */
  public enum LinkMode {
    /**
     * One TCP link per proxied connection: the fastest path (no framing or flow control above TCP's), and two
     * descriptors per connection on the client's daemon (the app's socket and the link) and on the server's.
     */
    DEDICATED,
    /**
     * Links are streams of one shared TCP connection per (event loop, other daemon), with a flow-control window
     * per link: one descriptor per connection on each daemon.
     */
    MULTIPLEXED,
    /** Dedicated until the open descriptors pass half of the process's limit, then multiplexed for new links. */
    AUTO
  }

  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  public RelayConfig {
    if (nodeName == null || !NODE_NAME.matcher(nodeName).matches()) {
      throw new IllegalArgumentException(
          "node-name must be 1 to 64 letters, digits, '.', '_' or '-', but was " + quote(nodeName));
    }
    requireLiteralIp("data-host", dataHost);
    if (dataPort < 0 || dataPort > 65535) {
      throw new IllegalArgumentException("data-port must be in 0..65535 (0 = ephemeral), but was " + dataPort);
    }
    if (holdBufferBytes < 1) {
      throw new IllegalArgumentException("hold-buffer-bytes must be positive, but was " + holdBufferBytes);
    }
    requirePositive("hold-timeout", holdTimeout);
    if (writeBufferLowWaterMark < 1) {
      throw new IllegalArgumentException(
          "write-buffer-low-water-mark must be positive, but was " + writeBufferLowWaterMark);
    }
    if (writeBufferHighWaterMark < writeBufferLowWaterMark) {
      throw new IllegalArgumentException(
          "write-buffer-high-water-mark must be at least write-buffer-low-water-mark ("
              + writeBufferLowWaterMark
              + "), but was "
              + writeBufferHighWaterMark);
    }
    requirePositive("liveness-grace", livenessGrace);
    requirePositive("connect-timeout", connectTimeout);
    if (connectTimeout.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "connect-timeout must be at most " + Integer.MAX_VALUE + "ms, but was " + format(connectTimeout));
    }
    requirePositive("retry-backoff-min", retryBackoffMin);
    requirePositive("retry-backoff-max", retryBackoffMax);
    if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
      throw new IllegalArgumentException(
          "retry-backoff-max must be at least retry-backoff-min ("
              + format(retryBackoffMin)
              + "), but was "
              + format(retryBackoffMax));
    }
    if (ioThreads < 0) {
      throw new IllegalArgumentException(
          "io-threads must be 0 (one per processor) or positive, but was " + ioThreads);
    }
    if (replayLogBytes < 1) {
      throw new IllegalArgumentException("replay-log-bytes must be positive, but was " + replayLogBytes);
    }
    if (replayOverflow == null) {
      throw new IllegalArgumentException("replay-overflow must be reconnect or reset, but was null");
    }
    requirePositive("recovery-stall-timeout", recoveryStallTimeout);
    if (linkKeepalive == null
        || linkKeepalive.isNegative()
        || (!linkKeepalive.isZero() && linkKeepalive.compareTo(Duration.ofSeconds(1)) < 0)
        || linkKeepalive.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException(
          "link-keepalive must be 0 (off) or from 1s to 1h, but was " + format(linkKeepalive));
    }
    if (links == null) {
      throw new IllegalArgumentException("links must be dedicated, multiplexed or auto, but was null");
    }
    if (dataPath == null) {
      throw new IllegalArgumentException("data-path must be relayed or direct, but was null");
    }
  }

  /** The defaults documented on each component, for node {@code nodeName} with its data plane on {@code dataHost}. */
  public static RelayConfig defaults(String nodeName, String dataHost) {
    return new RelayConfig(
        nodeName,
        dataHost,
        0,
        DEFAULT_HOLD_BUFFER_BYTES,
        DEFAULT_HOLD_TIMEOUT,
        DEFAULT_WRITE_BUFFER_LOW_WATER_MARK,
        DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK,
        DEFAULT_LIVENESS_GRACE,
        DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_RETRY_BACKOFF_MIN,
        DEFAULT_RETRY_BACKOFF_MAX,
        0,
        true,
        DEFAULT_REPLAY_LOG_BYTES,
        DEFAULT_REPLAY_OVERFLOW,
        DEFAULT_RECOVERY_STALL_TIMEOUT,
        DEFAULT_LINK_KEEPALIVE,
        DEFAULT_LINKS,
        DEFAULT_DATA_PATH);
  }

  public RelayConfig withDataPort(int port) {
    return with(c -> c.dataPort = port);
  }

  public RelayConfig withHoldBufferBytes(int bytes) {
    return with(c -> c.holdBufferBytes = bytes);
  }

  public RelayConfig withHoldTimeout(Duration timeout) {
    return with(c -> c.holdTimeout = timeout);
  }

  public RelayConfig withWriteBufferWaterMarks(int low, int high) {
    return with(
        c -> {
          c.writeBufferLowWaterMark = low;
          c.writeBufferHighWaterMark = high;
        });
  }

  public RelayConfig withLivenessGrace(Duration grace) {
    return with(c -> c.livenessGrace = grace);
  }

  public RelayConfig withConnectTimeout(Duration timeout) {
    return with(c -> c.connectTimeout = timeout);
  }

  public RelayConfig withRetryBackoff(Duration min, Duration max) {
    return with(
        c -> {
          c.retryBackoffMin = min;
          c.retryBackoffMax = max;
        });
  }

  public RelayConfig withIoThreads(int threads) {
    return with(c -> c.ioThreads = threads);
  }

  public RelayConfig withNativeTransport(boolean useNative) {
    return with(c -> c.nativeTransport = useNative);
  }

  public RelayConfig withReplayLogBytes(int bytes) {
    return with(c -> c.replayLogBytes = bytes);
  }

  public RelayConfig withReplayOverflow(ReplayOverflow overflow) {
    return with(c -> c.replayOverflow = overflow);
  }

  public RelayConfig withRecoveryStallTimeout(Duration timeout) {
    return with(c -> c.recoveryStallTimeout = timeout);
  }

  public RelayConfig withLinkKeepalive(Duration keepalive) {
    return with(c -> c.linkKeepalive = keepalive);
  }

  public RelayConfig withLinks(LinkMode mode) {
    return with(c -> c.links = mode);
  }

  public RelayConfig withDataPath(DataPath path) {
    return with(c -> c.dataPath = path);
  }

  /** A copy with {@code change} applied to its settings, validated like any other. */
  private RelayConfig with(java.util.function.Consumer<Settings> change) {
    Settings c = new Settings(this);
    change.accept(c);
    return c.build();
  }

  /** The settings of a {@link RelayConfig} as mutable fields: what the {@code withX} methods change. */
  private static final class Settings {
    String nodeName;
    String dataHost;
    int dataPort;
    int holdBufferBytes;
    Duration holdTimeout;
    int writeBufferLowWaterMark;
    int writeBufferHighWaterMark;
    Duration livenessGrace;
    Duration connectTimeout;
    Duration retryBackoffMin;
    Duration retryBackoffMax;
    int ioThreads;
    boolean nativeTransport;
    int replayLogBytes;
    ReplayOverflow replayOverflow;
    Duration recoveryStallTimeout;
    Duration linkKeepalive;
    LinkMode links;
    DataPath dataPath;

    Settings(RelayConfig from) {
      nodeName = from.nodeName;
      dataHost = from.dataHost;
      dataPort = from.dataPort;
      holdBufferBytes = from.holdBufferBytes;
      holdTimeout = from.holdTimeout;
      writeBufferLowWaterMark = from.writeBufferLowWaterMark;
      writeBufferHighWaterMark = from.writeBufferHighWaterMark;
      livenessGrace = from.livenessGrace;
      connectTimeout = from.connectTimeout;
      retryBackoffMin = from.retryBackoffMin;
      retryBackoffMax = from.retryBackoffMax;
      ioThreads = from.ioThreads;
      nativeTransport = from.nativeTransport;
      replayLogBytes = from.replayLogBytes;
      replayOverflow = from.replayOverflow;
      recoveryStallTimeout = from.recoveryStallTimeout;
      linkKeepalive = from.linkKeepalive;
      links = from.links;
      dataPath = from.dataPath;
    }

    RelayConfig build() {
      return new RelayConfig(
          nodeName,
          dataHost,
          dataPort,
          holdBufferBytes,
          holdTimeout,
          writeBufferLowWaterMark,
          writeBufferHighWaterMark,
          livenessGrace,
          connectTimeout,
          retryBackoffMin,
          retryBackoffMax,
          ioThreads,
          nativeTransport,
          replayLogBytes,
          replayOverflow,
          recoveryStallTimeout,
          linkKeepalive,
          links,
          dataPath);
    }
  }

  private static void requirePositive(String setting, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(setting + " must be positive, but was " + format(value));
    }
  }

  private static void requireLiteralIp(String setting, String host) {
    boolean literal =
        host != null && (IPV4.matcher(host).matches() || (host.indexOf(':') >= 0 && host.matches("[0-9A-Fa-f:.%]+")));
    if (literal) {
      try {
        InetAddress.getByName(host); // a literal: parsed, never looked up
        return;
      } catch (UnknownHostException e) {
        // falls through to the error below
      }
    }
    throw new IllegalArgumentException(setting + " must be a literal IP address, but was " + quote(host));
  }

  private static String quote(String value) {
    return value == null ? "null" : "'" + value + "'";
  }

  /** {@code 1500ms}, {@code 60s}: how durations appear in messages and logs. */
  static String format(Duration d) {
    if (d == null) {
      return "null";
    }
    long ms = d.toMillis();
    return ms % 1000 == 0 && ms != 0 ? ms / 1000 + "s" : ms + "ms";
  }
}
