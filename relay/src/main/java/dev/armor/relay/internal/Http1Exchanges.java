package dev.armor.relay.internal;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Client side, {@code reconnect} policy: the HTTP/1.x exchanges of one connection, read from the bytes the relay
 * passes each way, so that a server's crash can be hidden where HTTP's own rules allow it, as a gateway would.
 *
 * <p>Design note. The generic rule ({@link ReconnectGuard}) cannot tell a request in flight from a quiet connection
 * that merely spoke last, so it re-attaches and lets a watchdog reset the client if the new instance stays silent:
 * a request the lost instance took with it costs the client the stall timeout and then an error. HTTP says more:
 * where each request and each response begins and ends, and which requests may be sent twice (RFC 9110, section
 * 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE). So, at the loss of the server ({@link #atLoss}):
 *
 * <ul>
 *   <li>no request outstanding: the connection is between exchanges, re-attached as it is ({@link Idle});
 *   <li>requests outstanding and no byte of their answer delivered, all of them idempotent (or not yet complete in
 *       their head, so no server can have acted on them) and kept: they are sent again to the new instance, first,
 *       and its answers are the client's ({@link Resend});
 *   <li>otherwise with no byte of the answer delivered (a POST in flight, or requests too large to keep): the client
 *       gets {@code 503 Service Unavailable} with {@code Connection: close}, as a gateway answers for a server
 *       that went away, and never a second execution ({@link Unavailable});
 *   <li>an answer partly delivered, a protocol switched ({@code 101}, {@code CONNECT}), or bytes that are not
 *       HTTP/1.x: nothing can be hidden ({@link Unhidable}; the client is reset, as the crash would have reset it).
 * </ul>
 *
 * <p>Detected from the client's first bytes (a request line ending in {@code HTTP/1.0} or {@code HTTP/1.1}); any
 * other protocol, or a server that speaks first, makes the connection opaque for good and costs nothing more.
 * Bounded: a start line or header line over {@value #MAX_LINE} bytes, or a head over {@value #MAX_HEAD}, makes it
 * opaque; the requests kept for a resend never exceed the limit given (then they are answered 503 instead).
 *
 * <p>Not thread-safe: confined to its connection's event loop.
 */
final class Http1Exchanges implements ProtocolElement {

  static final int MAX_LINE = 8192;
  static final int MAX_HEAD = 65536;
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
  private static final Pattern METHOD = Pattern.compile("[A-Z]{1,20}");
  private static final Pattern VERSION = Pattern.compile("HTTP/1\\.[01]");
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] \\d{3}( .*)?");

  /** What the relay can do for the client at the loss of the server. */
  sealed interface AtLoss permits Idle, Resend, Unavailable, Unhidable {}

  /** Between exchanges: re-attach as it is. */
  record Idle() implements AtLoss {}

  /** Send {@code requests} (the outstanding requests' bytes so far, in order) to the next instance first. */
  record Resend(byte[] requests, int count) implements AtLoss {}

  /** Answer the client {@code 503} and close; {@code request} names the request that was in flight. */
  record Unavailable(String request, String why) implements AtLoss {

    /** The response a gateway would give, closing the connection. */
    byte[] response() {
      String body = "Armor: the server restarted while it had this request (" + request + "); " + why + ".\n";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      return ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
          + bytes.length + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }
  }

  /** Nothing can be hidden: {@code why}. */
  record Unhidable(String why) implements AtLoss {}

  private enum Mode { UNDECIDED, HTTP, OPAQUE }

  /** A request seen from its start line on, until its final response ends. */
  private static final class Exchange {
    final String method;
    final String target;
    final long start;
    boolean headComplete;

    Exchange(String method, String target, long start) {
      this.method = method;
      this.target = target;
      this.start = start;
    }

    boolean idempotent() {
      return IDEMPOTENT.contains(method);
    }

    @Override
    public String toString() {
      return method + " " + (target.length() > 80 ? target.substring(0, 80) + "..." : target);
    }
  }

  private final int retainLimit;
  private Mode mode = Mode.UNDECIDED;
  private String opaqueBecause;
  private final ArrayDeque<Exchange> outstanding = new ArrayDeque<>();
  private final Framing requests = new Framing(true);
  private final Framing responses = new Framing(false);
  /** Client bytes from offset {@link #retainedFrom} on, while requests are outstanding; emptied past the limit. */
  private byte[] retained = new byte[0];
  private int retainedLength;
  private long retainedFrom;
  private boolean retainOverflowed;
  /** Client bytes seen so far. */
  private long clientOffset;
  /** A byte of the oldest outstanding request's final response has gone to the client. */
  private boolean answerStarted;

  /** @param retainLimit how many bytes of outstanding requests are kept for a resend */
  Http1Exchanges(int retainLimit) {
    this.retainLimit = retainLimit;
  }

  /** Whether the connection speaks HTTP/1.x as far as seen (false before its first bytes, and once opaque). */
  boolean isHttp() {
    return mode == Mode.HTTP;
  }

  /**
   * Bytes the client sent towards the server (the buffer's readable bytes; its indices are not moved). The first
   * complete line decides: an HTTP/1.x request line makes the connection HTTP, anything else opaque.
   */
  @Override
  public void clientSent(ByteBuf buf) {
    if (mode == Mode.OPAQUE) {
      return;
    }
    int from = buf.readerIndex();
    int to = buf.writerIndex();
    requests.feed(buf, from, to);
    if (mode != Mode.OPAQUE) {
      retain(buf, from, to - from);
    }
    clientOffset += to - from;
  }

  /** Bytes the server sent towards the client. */
  @Override
  public void serverSent(ByteBuf buf) {
    if (mode == Mode.OPAQUE) {
      return;
    }
    if (mode == Mode.UNDECIDED) {
      opaque("the server spoke before the client's first request line was complete", false);
      return;
    }
    responses.feed(buf, buf.readerIndex(), buf.writerIndex());
  }

  /**
   * As a protocol element: HTTP/1.1 exchanges are left to the replay under {@code replay}; otherwise {@link #atLoss()}
   * in the relay's terms.
   */
  @Override
  public ProtocolElement.AtLoss atLoss(boolean replay) {
    AtLoss exchanges = replay ? null : atLoss();
    if (exchanges == null) {
      return null;
    }
    if (exchanges instanceof Resend resend) {
      return new ProtocolElement.Resend(resend.requests(), resend.count(), "unanswered HTTP request(s)");
    }
    if (exchanges instanceof Unavailable unavailable) {
      return new ProtocolElement.Answer("HTTP: " + unavailable.request() + " was in flight and " + unavailable.why()
          + ": answered 503 Service Unavailable with Connection: close, as a gateway would", unavailable.response());
    }
    if (exchanges instanceof Unhidable unhidable) {
      return new ProtocolElement.Reset(
          "HTTP: " + unhidable.why() + ": client reset at once, as the crash would have reset it");
    }
    return new ProtocolElement.Carry(); // Idle: between exchanges
  }

  /** What can be done for the client now that the server is lost; null when the connection is not HTTP/1.x. */
  AtLoss atLoss() {
    if (mode == Mode.UNDECIDED) {
      return null;
    }
    if (mode == Mode.OPAQUE) {
      return opaqueBecause == null ? null : new Unhidable(opaqueBecause);
    }
    if (answerStarted || responses.inMessage()) {
      return new Unhidable("part of the answer to " + outstanding.peekFirst() + " was delivered");
    }
    if (outstanding.isEmpty() && !requests.inMessage()) {
      return new Idle();
    }
    for (Exchange exchange : outstanding) {
      if (exchange.headComplete && !exchange.idempotent()) {
        return new Unavailable(exchange.toString(), "it was not sent again, as it may have been carried out");
      }
    }
    if (retainOverflowed) {
      return new Unavailable(describeOutstanding(), "it was larger than the " + retainLimit
          + " bytes Armor keeps to send a request again");
    }
    return new Resend(Arrays.copyOf(retained, retainedLength), outstanding.size());
  }

  /**
   * The requests of a {@link Resend} were put before the client's held bytes: they will be read again from there, by
   * {@link #clientSent}, as the new instance gets them; the new instance's answers start afresh.
   */
  @Override
  public void resent() {
    outstanding.clear();
    requests.reset();
    responses.reset();
    answerStarted = false;
    retainedLength = 0;
    retainedFrom = clientOffset;
    retainOverflowed = false;
  }

  private String describeOutstanding() {
    Exchange first = outstanding.peekFirst();
    return first == null ? "a request not yet complete" : first.toString();
  }

  /**
   * Stops reading the connection as HTTP/1.x for good. {@code unhidable}: it now carries a session of the lost
   * instance (a protocol switched to), which no other instance can continue; otherwise the generic rule applies,
   * as for any protocol the relay does not know.
   */
  private void opaque(String because, boolean unhidable) {
    mode = Mode.OPAQUE;
    opaqueBecause = unhidable ? because : null;
    outstanding.clear();
    retained = new byte[0];
    retainedLength = 0;
  }

  private void retain(ByteBuf buf, int from, int length) {
    if (retainOverflowed) {
      return;
    }
    if (retainedLength + length > retainLimit) {
      retainOverflowed = true;
      retained = new byte[0];
      retainedLength = 0;
      return;
    }
    if (retainedLength + length > retained.length) {
      retained = Arrays.copyOf(retained, Math.min(retainLimit, Math.max(retainedLength + length, retained.length * 2)));
    }
    buf.getBytes(from, retained, retainedLength, length);
    retainedLength += length;
  }

  /** The oldest outstanding exchange's final response ended: its request's bytes are not kept any longer. */
  private void exchangeDone() {
    Exchange done = outstanding.pollFirst();
    answerStarted = false;
    Exchange next = outstanding.peekFirst();
    if (next == null && requests.inMessage() && done.start == requests.messageStart) {
      // answered before the server read all of it (a 413, a 401): the rest of it is no request of its own
      opaque("the server answered " + done + " before it had all of it", true);
      return;
    }
    long keepFrom = next != null ? next.start : requests.inMessage() ? requests.messageStart : clientOffset;
    if (retainOverflowed) {
      if (next == null && !requests.inMessage()) {
        retainOverflowed = false; // nothing outstanding: keeping starts again with the next request
        retainedFrom = keepFrom;
      }
      return;
    }
    int drop = (int) Math.min(retainedLength, Math.max(0, keepFrom - retainedFrom));
    System.arraycopy(retained, drop, retained, 0, retainedLength - drop);
    retainedLength -= drop;
    retainedFrom += drop;
    if (retainedLength == 0 && retained.length > 4096) {
      retained = new byte[0]; // an idle keep-alive connection keeps nothing
    }
  }

  /**
   * One direction's message framing (RFC 9112): start line, header lines, then a body delimited by
   * {@code Content-Length}, by chunks, by nothing, or (responses only) by the connection's end.
   */
  private final class Framing {
    private final boolean isRequest;
    private Part part = Part.START;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private int headBytes;
    private long remaining;
    private boolean chunked;
    private long contentLength;
    /** Client offset of the first byte of the request being read (requests only); meaningful while inMessage. */
    long messageStart;
    private int status;

    Framing(boolean isRequest) {
      this.isRequest = isRequest;
    }

    boolean inMessage() {
      return part != Part.START || lineLength > 0;
    }

    void reset() {
      part = Part.START;
      lineLength = 0;
      headBytes = 0;
    }

    void feed(ByteBuf buf, int from, int to) {
      long base = isRequest ? clientOffset - from : 0;
      int i = from;
      while (i < to && mode != Mode.OPAQUE) {
        switch (part) {
          case START, HEADERS, CHUNK_SIZE, TRAILERS -> {
            byte b = buf.getByte(i);
            if (isRequest && part == Part.START && lineLength == 0 && b != '\r' && b != '\n') {
              messageStart = base + i;
            }
            if (!isRequest && part == Part.START && lineLength == 0 && b != '\r' && b != '\n') {
              answerStarted = true;
            }
            i++;
            if (b == '\n') {
              lineEnded();
            } else if (lineLength == MAX_LINE || (part != Part.CHUNK_SIZE && ++headBytes > MAX_HEAD)) {
              opaque("a line or head longer than Armor reads (" + MAX_LINE + " / " + MAX_HEAD + " bytes)", false);
            } else {
              line[lineLength++] = b;
            }
          }
          case BODY, CHUNK_DATA -> {
            int n = (int) Math.min(remaining, to - i);
            i += n;
            remaining -= n;
            if (remaining == 0) {
              if (part == Part.BODY) {
                messageEnded();
              } else {
                part = Part.CHUNK_DATA_END;
              }
            }
          }
          case CHUNK_DATA_END -> {
            if (buf.getByte(i++) == '\n') {
              part = Part.CHUNK_SIZE;
            }
          }
          case UNTIL_CLOSE -> i = to;
        }
      }
    }

    private void lineEnded() {
      int length = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
      String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
      lineLength = 0;
      switch (part) {
        case START -> {
          if (!text.isEmpty()) { // empty lines between messages are ignored (RFC 9112, 2.2)
            startLine(text);
          }
        }
        case HEADERS -> {
          if (text.isEmpty()) {
            headEnded();
          } else {
            header(text);
          }
        }
        case CHUNK_SIZE -> {
          int semicolon = text.indexOf(';');
          String size = (semicolon < 0 ? text : text.substring(0, semicolon)).trim();
          try {
            remaining = Long.parseLong(size, 16);
          } catch (NumberFormatException e) {
            opaque("a chunk size that is not one: " + size, false);
            return;
          }
          if (remaining < 0) {
            opaque("a negative chunk size", false);
          } else if (remaining == 0) {
            headBytes = 0;
            part = Part.TRAILERS;
          } else {
            part = Part.CHUNK_DATA;
          }
        }
        case TRAILERS -> {
          if (text.isEmpty()) {
            messageEnded();
          }
        }
        default -> throw new IllegalStateException("no line in " + part);
      }
    }

    private void startLine(String text) {
      headBytes = text.length();
      chunked = false;
      contentLength = -1;
      if (isRequest) {
        String[] words = text.split(" ");
        if (words.length != 3 || !VERSION.matcher(words[2]).matches() || !METHOD.matcher(words[0]).matches()) {
          opaque("the client's bytes are not an HTTP/1.x request", false);
          return;
        }
        mode = Mode.HTTP;
        outstanding.addLast(new Exchange(words[0], words[1], messageStart));
      } else {
        if (!STATUS_LINE.matcher(text).matches()) {
          opaque("the server's bytes are not an HTTP/1.x response", false);
          return;
        }
        if (outstanding.isEmpty()) {
          opaque("the server answered a request it was not sent", false);
          return;
        }
        status = Integer.parseInt(text.substring(9, 12));
      }
      part = Part.HEADERS;
    }

    private void header(String text) {
      int colon = text.indexOf(':');
      if (colon <= 0) {
        return; // obsolete line folding or junk: not framing
      }
      String name = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = text.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "transfer-encoding" -> chunked = value.endsWith("chunked");
        case "content-length" -> {
          try {
            contentLength = Long.parseLong(value);
          } catch (NumberFormatException e) {
            opaque("a Content-Length that is not a number: " + value, false);
          }
        }
        default -> { }
      }
    }

    private void headEnded() {
      if (isRequest) {
        Exchange exchange = outstanding.peekLast();
        exchange.headComplete = true;
        beginBody(chunked, contentLength < 0 ? 0 : contentLength, false);
        return;
      }
      Exchange exchange = outstanding.peekFirst();
      if (status == 101 || (exchange.method.equals("CONNECT") && status / 100 == 2)) {
        opaque("it switched to another protocol (" + exchange + " answered " + status + ")", true);
        return;
      }
      if (status / 100 == 1) {
        answerStarted = false; // an interim answer (100 Continue): the final one is still to come
        part = Part.START;
        return;
      }
      boolean noBody = exchange.method.equals("HEAD") || status == 204 || status == 304;
      beginBody(!noBody && chunked, noBody ? 0 : contentLength, !noBody && !chunked && contentLength < 0);
    }

    private void beginBody(boolean chunks, long length, boolean untilClose) {
      if (untilClose) {
        part = Part.UNTIL_CLOSE; // ends with the connection: a crash cannot be told from its end
      } else if (chunks) {
        part = Part.CHUNK_SIZE;
      } else if (length > 0) {
        remaining = length;
        part = Part.BODY;
      } else {
        messageEnded();
      }
    }

    private void messageEnded() {
      part = Part.START;
      if (!isRequest) {
        exchangeDone();
      }
    }
  }

  private enum Part { START, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, UNTIL_CLOSE }
}
