package dev.armor.relay.internal;

import dev.armor.relay.internal.LinkFrames.Ack;
import io.netty.channel.Channel;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sends a REPLAY link's cumulative ACKs (see {@link LinkFrames}): one at the end of a read burst once
 * {@link #EVERY_BYTES} are unacknowledged, else one {@link #DELAY_MILLIS} later, so a busy link carries one small
 * frame per 64 KiB and an idle one a last ACK soon after its last bytes. Confined to the link's loop.
 */
final class AckSender {

  static final int EVERY_BYTES = 64 * 1024;
  static final long DELAY_MILLIS = 20;

  private final Channel link;
  private long passedOn;
  private long sent;
  private ScheduledFuture<?> timer;

  AckSender(Channel link) {
    this.link = link;
  }

  /** {@code n} more bytes of the link's input were passed on. */
  void passedOn(long n) {
    passedOn += n;
  }

  /** At the end of a read burst: acknowledge now, or soon. */
  void readComplete() {
    if (passedOn - sent >= EVERY_BYTES) {
      send();
    } else if (passedOn > sent && timer == null) {
      timer = link.eventLoop().schedule(this::onTimer, DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void onTimer() {
    timer = null;
    if (passedOn > sent) {
      send();
    }
  }

  private void send() {
    if (!link.isActive()) {
      return;
    }
    sent = passedOn;
    link.writeAndFlush(LinkFrames.encode(link.alloc(), new Ack(passedOn)), link.voidPromise());
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
