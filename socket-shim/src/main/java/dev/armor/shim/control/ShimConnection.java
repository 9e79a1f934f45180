package dev.armor.shim.control;

import dev.armor.shim.control.ShimMessage.Ack;
import dev.armor.shim.control.ShimMessage.BindQuery;
import dev.armor.shim.control.ShimMessage.ConnectionKind;
import dev.armor.shim.control.ShimMessage.DaemonError;
import dev.armor.shim.control.ShimMessage.Heartbeat;
import dev.armor.shim.control.ShimMessage.HeartbeatAck;
import dev.armor.shim.control.ShimMessage.Hello;
import dev.armor.shim.control.ShimMessage.Listening;
import dev.armor.shim.control.ShimMessage.PeerQuery;
import dev.armor.shim.control.ShimMessage.Pong;
import dev.armor.shim.control.ShimMessage.RouteQuery;
import dev.armor.shim.control.ShimMessage.Unlistened;
import dev.armor.shim.control.ShimMessage.Welcome;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.Optional;

/**
 * One shim connection, served by its own thread: reads the HELLO, then either keeps the session (answering
 * pongs, reporting the end of stream as the app's death) or answers queries one by one through the handler. A
 * PEERS connection is handed to its session after the WELCOME and switched to non-blocking, and its thread ends:
 * only the daemon writes on it, from whichever thread announces a peer, and the session closes it.
 * Whatever goes wrong ends this connection only.
 */
final class ShimConnection implements Runnable {
  private static final Logger LOG = System.getLogger(ShimControlServer.class.getName());

  private final SocketChannel channel;
  private final ShimRequestHandler handler;
  private final SessionRegistry sessions;
  private final ShimControlServer server;
  private final FrameReader reader = new FrameReader();
  private final Object writeLock = new Object();
  private volatile String who = "shim connection that has not said hello yet";
  /** A PEERS connection now owned by its session: this thread must not close it when it ends. */
  private boolean handedOff;
  /** Its HELLO arrived: the server's HELLO deadline no longer applies. */
  private volatile boolean introduced;

  ShimConnection(SocketChannel channel, ShimRequestHandler handler, SessionRegistry sessions, ShimControlServer server) {
    this.channel = channel;
    this.handler = handler;
    this.sessions = sessions;
    this.server = server;
  }

  @Override
  public void run() {
    try {
      Hello hello = readHello();
      introduced = true;
      who = (hello.kind() == ConnectionKind.SESSION ? "session" : "request") + " connection of pid " + hello.pid()
          + " (node " + hello.node() + ", armor " + hello.armorId() + ")";
      Thread.currentThread().setName("armor-shim-control " + who);
      if (hello.kind() == ConnectionKind.SESSION) {
        serveSession(hello);
      } else if (hello.kind() == ConnectionKind.PEERS) {
        handedOff = handOverPeers(hello);
      } else {
        serveRequests(hello);
      }
    } catch (ShimProtocolException e) {
      if (!server.isClosed()) {
        LOG.log(Level.WARNING, "closing the " + who + ": " + e.getMessage());
      }
    } catch (EOFException e) {
      LOG.log(Level.DEBUG, () -> "the " + who + " ended");
    } catch (IOException e) {
      LOG.log(Level.DEBUG, () -> "the " + who + " broke: " + e);
    } finally {
      if (!handedOff) {
        close();
        server.forget(this);
      }
    }
  }

  boolean introduced() {
    return introduced;
  }

  void send(ShimMessage message) throws IOException {
    synchronized (writeLock) {
      ShimWire.write(channel, message);
    }
  }

  void close() {
    ShimControlServer.closeQuietly(channel);
  }

  /** Closes a PEERS connection its session owns (the session ended, or the app fell behind). */
  void closeHandedOff() {
    close();
    server.forget(this);
  }

  /**
   * Writes {@code message} on this (non-blocking) PEERS connection if the whole frame fits now; false when it did
   * not (the app is not reading, or is gone): the connection must then be closed, since a partial frame went out.
   */
  boolean trySend(ShimMessage message) {
    ByteBuffer frame = ShimWire.encode(message);
    synchronized (writeLock) {
      try {
        channel.write(frame);
      } catch (IOException e) {
        return false;
      }
    }
    return !frame.hasRemaining();
  }

  private Hello readHello() throws IOException {
    ShimMessage first = reader.read(channel);
    if (first instanceof Hello hello) {
      return hello;
    }
    throw new ShimProtocolException("the first frame must be HELLO, but was " + first);
  }

  private void serveSession(Hello hello) throws IOException {
    ShimSessionImpl session = new ShimSessionImpl(hello.pid(), hello.armorId(), hello.node(), this);
    if (!open(session)) {
      return;
    }
    try {
      send(new Welcome());
      session.welcomed();
      while (true) {
        ShimMessage message = reader.read(channel);
        if (message instanceof Heartbeat heartbeat) {
          // Answered first, on this thread: the ack says "this daemon process runs", whatever the handler does.
          send(new HeartbeatAck(heartbeat.beat(), handler.nodeLeaseMillis()));
          reportHeartbeat(session, heartbeat.beat());
        } else if (message instanceof Pong pong) {
          session.pong(pong.id());
        } else {
          throw new ShimProtocolException("a session connection carries only PONG and HEARTBEAT, but got " + message);
        }
      }
    } finally {
      session.markClosed();
      sessions.remove(session);
      if (!server.isClosed()) {
        reportClosed(session);
      }
    }
  }

  private boolean open(ShimSessionImpl session) throws IOException {
    try {
      handler.sessionOpened(session);
    } catch (RuntimeException e) {
      session.markClosed(); // fails any ping the handler asked for before refusing
      LOG.log(Level.WARNING, "the daemon refused the " + who, e);
      send(new DaemonError("the Armor daemon refused the session: " + e.getMessage()));
      return false;
    }
    sessions.add(session);
    return true;
  }

  private void reportHeartbeat(ShimSessionImpl session, long beat) {
    try {
      handler.heartbeat(session, beat);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "handling a heartbeat of the " + who + " failed", e);
    }
  }

  private void reportClosed(ShimSessionImpl session) {
    try {
      handler.sessionClosed(session);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "handling the end of the " + who + " failed", e);
    }
  }

  /** Hands a PEERS connection to its session; false (and an ERROR to the shim) when there is no session. */
  private boolean handOverPeers(Hello hello) throws IOException {
    Optional<ShimSessionImpl> session = sessions.find(hello.pid());
    if (session.isEmpty()) {
      send(new DaemonError("no open Armor session for pid " + hello.pid() + ": open the session connection first"));
      return false;
    }
    // Attached before the WELCOME goes out, and under the write lock: no notice can precede the WELCOME, and every
    // connection the daemon makes once the shim has its WELCOME (and reports its listener) is announced.
    synchronized (writeLock) {
      channel.configureBlocking(false);
      session.get().attachPeers(this);
      if (!trySend(new Welcome())) {
        throw new IOException("could not write the WELCOME");
      }
    }
    return true;
  }

  private void serveRequests(Hello hello) throws IOException {
    Optional<ShimSessionImpl> session = sessions.find(hello.pid());
    if (session.isEmpty()) {
      send(new DaemonError("no open Armor session for pid " + hello.pid() + ": open the session connection first"));
      return;
    }
    send(new Welcome());
    while (true) {
      ShimMessage query = reader.read(channel);
      send(answer(session.get(), query));
    }
  }

  private ShimMessage answer(ShimSession session, ShimMessage query) throws ShimProtocolException {
    try {
      return ask(session, query);
    } catch (ShimProtocolException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "the daemon failed to answer " + query + " from the " + who, e);
      return new DaemonError("the Armor daemon failed to answer: " + e);
    }
  }

  private ShimMessage ask(ShimSession session, ShimMessage query) throws ShimProtocolException {
    if (query instanceof RouteQuery q) {
      return Answers.route(handler.route(session, q.destination()));
    } else if (query instanceof BindQuery q) {
      return Answers.verdict(handler.bind(session, q.requested()));
    } else if (query instanceof Listening q) {
      return Answers.verdict(handler.listening(session, q.requested(), q.actualPort()));
    } else if (query instanceof Unlistened q) {
      handler.unlistened(session, q.requested());
      return new Ack();
    } else if (query instanceof PeerQuery q) {
      Optional<InetSocketAddress> peer = handler.peerOf(session, q.daemonPort());
      return Answers.peer(peer);
    }
    throw new ShimProtocolException("a request connection carries only queries, but got " + query);
  }
}
