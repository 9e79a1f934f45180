package dev.armor.relay.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reads a socket's input on a thread of its own, keeping what arrived and how the stream ended. */
public final class StreamRecorder {

  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private volatile boolean ended;
  private volatile IOException error;

  public StreamRecorder(InputStream in) {
    Thread reader =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                  synchronized (received) {
                    received.write(buf, 0, n);
                  }
                }
                ended = true;
              } catch (IOException e) {
                error = e;
              }
            },
            "test-client-reader");
    reader.setDaemon(true);
    reader.start();
  }

  public String text() {
    synchronized (received) {
      return received.toString(StandardCharsets.UTF_8);
    }
  }

  public byte[] bytes() {
    synchronized (received) {
      return received.toByteArray();
    }
  }

  /** End of stream was read. */
  public boolean ended() {
    return ended;
  }

  /** The read failed (e.g. connection reset); null if not. */
  public IOException error() {
    return error;
  }
}
