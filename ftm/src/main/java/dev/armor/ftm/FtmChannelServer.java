package dev.armor.ftm;

import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.execution.process.ArmorChannel;
import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.PendingHandshakes;
import dev.armor.security.RefusalLog;
import dev.armor.security.Role;
import dev.armor.security.TlsHandshake;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FTM channel's listening end, on every FTM-capable node: daemons send service registrations (the app's
 * {@code bind} waits for one) and unregistrations over a plain TCP {@link ArmorChannel} to the node that
 * hosts the FTM, instead of through Pekko remoting.
 *
 * <p>Why. A registration is one round trip to the FTM. Measured on the loaded 2-core host (load 13-17), an Artery
 * ask between two JVMs took 2.1-3.5 ms p50 and the same request over a TCP channel, handed to the same actor, 0.16
 * to 0.21 ms: Artery passes a message through about seven threads each way (stream stages, the TCP actors, the
 * selector, the inbound lane) and on a busy host every hand-off waits for a CPU; here a blocked reader thread wakes
 * and the actor answers onto the socket.
 *
 * <p>Design note. An acceptor thread, and per daemon the channel's reader thread (a node has a few daemons). A
 * request is handed to the FTM through this node's singleton proxy, so it reaches the FTM wherever it runs now and,
 * while the singleton moves, waits in the proxy's buffer like any message through the cluster; the FTM's answer is
 * written back by the thread that completes it, the FTM actor's own ({@link Armors#ask}: no thread is started or woken
 * for it; the write is a small frame answering a request the daemon sent, so it does not wait on a daemon that stopped
 * reading unless that daemon had already filled its socket with requests). What is taken: requests (never one-way
 * messages) addressed to the FTM whose one operation is of a type {@link #carries carried}, sent as the daemon of the
 * node whose certificate the peer showed; anything else is answered with an error. The listener is on the node's own
 * address, ephemeral port (like the data plane's), and the FTM tells the daemons where ({@code ftm_channel} in its
 * heartbeats and in its answer to their registration).
 *
 * <p>Who gets in. Mutual TLS under the node's credentials: a peer must show a node certificate of the cluster's CA
 * within {@link TlsHandshake#TIMEOUT} (each handshake on a thread of its own, so a peer that never finishes one holds up
 * nobody), and at most {@link #MAX_CONNECTIONS} are open or handshaking at once. Refusals are logged at most once a
 * second ({@link RefusalLog}). APP_SERVER_DB then lets a daemon register and unregister only its own node's services.
 */
public final class FtmChannelServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FtmChannelServer.class);

  /**
   * The operations the channel carries: registrations (an app's bind waits for each) and unregistrations (an app that
   * closes a listener and binds another makes one per cycle, and through the cluster each cost about 1.5 ms of Artery
   * hand-offs on both JVMs, on the CPUs the next bind needs). Their order per service address is kept by the daemon
   * (APP_COMM_SERVER has one kind of request per address in flight at a time), whichever path each takes.
   */
  static final Set<String> CARRIED = Set.of(Ops.REGISTER_SERVICE, Ops.UNREGISTER_SERVICE);
  /** How the refusal of a request the channel does not carry begins (an FTM of an earlier version says it too). */
  private static final String NOT_CARRIED = "the FTM channel carries only requests to the FTM of ";
  /** How long a request may wait for the FTM; the daemon's own timeout is shorter and decides. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** A node has a few daemons, each with one channel; far beyond that is someone knocking. */
  static final int MAX_CONNECTIONS = 256;

  /**
   * Connections one address may have in their TLS handshake at once: a node's daemons open one channel each, one at a
   * time, so a few is plenty; the rest of {@link #MAX_CONNECTIONS} stays for the other addresses.
   */
  static final int MAX_HANDSHAKES_PER_ADDRESS = 16;

  /**
   * Channels one node's certificate may have open at once: its daemon keeps one, and a daemon that restarts opens
   * its new one before the old one's end may have been noticed. Past it the node's oldest channel is closed (the
   * newest is the live daemon's), so a certificate cannot take the connections every other node needs.
   */
  static final int MAX_CHANNELS_PER_NODE = 4;

  private final ServerSocketChannel listener;
  private final SSLContext tls;
  private final RefusalLog refusals;
  private final AtomicInteger connections = new AtomicInteger();
  private final PendingHandshakes handshaking = new PendingHandshakes(MAX_HANDSHAKES_PER_ADDRESS, MAX_CONNECTIONS);
  private final String address;
  private final Set<ArmorChannel> channels = ConcurrentHashMap.newKeySet();
  /** Each node's open channels, oldest first (guarded by itself). */
  private final java.util.Map<String, java.util.ArrayDeque<ArmorChannel>> byNode = new java.util.HashMap<>();
  private volatile boolean closed;

  private FtmChannelServer(ServerSocketChannel listener, String address, SSLContext tls) {
    this.listener = listener;
    this.address = address;
    this.tls = tls;
    this.refusals = new RefusalLog(log, "the FTM channel on " + address);
  }

  /**
   * Listens on {@code host}, ephemeral port, without accepting yet: the node's configuration needs the address (the
   * FTM advertises it) before the actor system that {@link #start} needs exists.
   */
  public static FtmChannelServer bind(String host, Credentials node) throws IOException {
    SSLContext tls = node.sslContext(EnumSet.of(Role.NODE));
    try {
      ServerSocketChannel listener = ServerSocketChannel.open();
      try {
        listener.bind(new InetSocketAddress(host, 0));
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        return new FtmChannelServer(listener, host + ":" + port, tls);
      } catch (IOException e) {
        listener.close();
        throw e;
      }
    } catch (IOException e) {
      BindException bind = new BindException("cannot listen for the FTM channel on " + host + ": " + e.getMessage());
      bind.initCause(e);
      throw bind;
    }
  }

  /** Whether the channel carries {@code message}: a message to the FTM with one operation of a carried type. */
  public static boolean carries(ArmorMessage message) {
    return ArmorIds.FTM.equals(message.getTo()) && message.getBundlesCount() == 1
        && message.getBundles(0).getOperationsCount() == 1
        && CARRIED.contains(message.getBundles(0).getOperations(0).getType());
  }

  /**
   * Whether {@code reply} is the channel's refusal of a request it does not carry: an FTM of an earlier version that
   * takes fewer operations over its channel than this daemon sends; the request must go through the cluster.
   */
  public static boolean notCarried(ArmorMessage reply) {
    return reply.getError().startsWith(NOT_CARRIED);
  }

  /** host:port, what the FTM advertises to the daemons. */
  public String address() {
    return address;
  }

  /**
   * Starts accepting daemons' channels.
   *
   * @param ftm the singleton proxy of this node
   */
  public void start(ActorRef<ArmorActor.Command> ftm, Scheduler scheduler) {
    Thread acceptor = new Thread(() -> acceptLoop(ftm, scheduler), "armor-ftm-channel-accept " + address);
    acceptor.setDaemon(true);
    acceptor.start();
    log.info("FTM channel listening on {}", address);
  }

  private void acceptLoop(ActorRef<ArmorActor.Command> ftm, Scheduler scheduler) {
    while (!closed) {
      SocketChannel socket;
      try {
        socket = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          log.warn("FTM channel on {}: accepting failed: {}", address, e.getMessage());
          pause(); // out of file descriptors, say: do not spin
        }
        continue;
      }
      java.net.SocketAddress from = remoteAddress(socket);
      if (connections.incrementAndGet() > MAX_CONNECTIONS) {
        connections.decrementAndGet();
        refusals.refused(shown(from), MAX_CONNECTIONS + " connections are open or handshaking already");
        closeQuietly(socket);
        continue;
      }
      String tooMany = handshaking.admit(from);
      if (tooMany != null) {
        connections.decrementAndGet();
        refusals.refused(shown(from), tooMany);
        closeQuietly(socket);
        continue;
      }
      Thread handshake =
          new Thread(() -> serve(socket, from, ftm, scheduler), "armor-ftm-channel-handshake " + address);
      handshake.setDaemon(true);
      handshake.start();
    }
  }

  /** The peer's address, or null when it cannot be read (counted with the other peers of unknown address). */
  private static java.net.SocketAddress remoteAddress(SocketChannel socket) {
    try {
      return socket.getRemoteAddress();
    } catch (IOException e) {
      return null;
    }
  }

  /** {@code peer} as a refusal names it. */
  private static Object shown(java.net.SocketAddress peer) {
    return peer != null ? peer : "a peer";
  }

  /**
   * On a thread of its own: the TLS handshake, then the channel (whose reader thread takes over). {@code admitted}: the
   * peer's address as {@link #handshaking} counted it.
   */
  private void serve(SocketChannel socket, java.net.SocketAddress admitted, ActorRef<ArmorActor.Command> ftm,
      Scheduler scheduler) {
    InetSocketAddress peer;
    SSLSocket ssl;
    Identity node;
    try {
      socket.socket().setTcpNoDelay(true);
      peer = (InetSocketAddress) socket.getRemoteAddress();
      ssl = TlsHandshake.over(tls, socket.socket(), false);
      node = Identity.ofPeer(ssl.getSession()).orElseThrow(() -> new SSLException("the peer showed no node certificate"));
    } catch (IOException e) {
      handshaking.done(admitted);
      connections.decrementAndGet();
      refusals.refused(shown(admitted), "no TLS session with a node certificate of this cluster ("
          + (e instanceof java.net.SocketTimeoutException ? "no handshake within " + TlsHandshake.TIMEOUT.toSeconds() + " s"
              : e.getMessage()) + ")");
      closeQuietly(socket);
      return;
    }
    handshaking.done(admitted);
    String daemon = ArmorIds.daemon(node.name());
    ArmorChannel channel;
    try {
      channel = ArmorChannel.open(ssl, daemon + " at " + peer, new ArmorChannel.Handler() {
        @Override
        public void received(ArmorMessage message, Consumer<ArmorMessage> reply) {
          if (!daemon.equals(message.getFrom())) {
            refusals.refused(peer, node + " sent a request as " + message.getFrom());
            if (reply != null) {
              reply.accept(error(message, "the FTM channel takes requests from " + daemon + " only on this connection"
                  + " (the peer's certificate is node " + node.name() + "'s)"));
            }
            return;
          }
          deliver(message, reply, ftm, scheduler, peer);
        }

        @Override
        public void closed(ArmorChannel closedChannel, String reason) {
          channels.remove(closedChannel);
          forget(node.name(), closedChannel);
          connections.decrementAndGet();
          log.debug("FTM channel from {} closed: {}", peer, reason);
        }
      });
    } catch (IOException e) {
      connections.decrementAndGet();
      closeQuietly(socket);
      return;
    }
    channels.add(channel);
    ArmorChannel oldest = remember(node.name(), channel);
    if (oldest != null) {
      refusals.refused(peer, "node " + node.name() + " opened more than " + MAX_CHANNELS_PER_NODE
          + " FTM channels: its oldest one is closed");
      oldest.close("node " + node.name() + " has " + MAX_CHANNELS_PER_NODE + " newer FTM channels");
    }
    if (closed) {
      channel.close("the FTM channel server is closing");
    }
    log.debug("FTM channel from {} ({}) open", peer, node);
  }

  /** Records {@code node}'s new channel; returns its oldest one when the node now has too many, else null. */
  private ArmorChannel remember(String node, ArmorChannel channel) {
    synchronized (byNode) {
      java.util.ArrayDeque<ArmorChannel> open = byNode.computeIfAbsent(node, n -> new java.util.ArrayDeque<>());
      open.addLast(channel);
      return open.size() > MAX_CHANNELS_PER_NODE ? open.pollFirst() : null;
    }
  }

  private void forget(String node, ArmorChannel channel) {
    synchronized (byNode) {
      java.util.ArrayDeque<ArmorChannel> open = byNode.get(node);
      if (open != null && open.remove(channel) && open.isEmpty()) {
        byNode.remove(node);
      }
    }
  }

  /** Hands a request to the FTM and its answer back to the daemon; refuses what the channel does not carry. */
  private static void deliver(ArmorMessage message, Consumer<ArmorMessage> reply, ActorRef<ArmorActor.Command> ftm,
      Scheduler scheduler, InetSocketAddress peer) {
    if (reply == null) {
      log.warn("FTM channel from {}: dropped a one-way message (the channel carries requests only)", peer);
      return;
    }
    if (!carries(message)) {
      reply.accept(error(message, NOT_CARRIED + CARRIED
          + "; send this through the cluster"));
      return;
    }
    String type = message.getBundles(0).getOperations(0).getType();
    Armors.ask(ftm, message, REQUEST_TIMEOUT, scheduler)
        .whenComplete((answer, failure) -> reply.accept(answer != null ? answer
            : error(message, "the FTM did not answer " + type + " within " + REQUEST_TIMEOUT.toSeconds() + " s")));
  }

  private static ArmorMessage error(ArmorMessage request, String why) {
    return ArmorMessage.newBuilder().setFrom(request.getTo()).setTo(request.getFrom())
        .setCorrelationId(request.getCorrelationId()).setError(why).build();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (ArmorChannel channel : channels) {
      channel.close("the FTM channel server is closing");
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      log.trace("close failed", e);
    }
  }
}
