package dev.armor.shim.agent;

import dev.armor.shim.control.ShimControlServer;
import dev.armor.shim.control.ShimRequestHandler;
import dev.armor.shim.control.ShimSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Plays the Armor daemon for the agent tests: a real {@link ShimControlServer} whose handler answers from maps the
 * test fills in (routes default to Direct) and records every call for the test to assert on.
 */
final class FakeDaemon implements ShimRequestHandler, AutoCloseable {

  /** A {@code listening} report. */
  record ListeningReport(long pid, InetSocketAddress requested, int actualPort) {}

  final Map<InetSocketAddress, Route> routes = new ConcurrentHashMap<>();
  final Map<Integer, InetSocketAddress> peers = new ConcurrentHashMap<>();
  final List<InetSocketAddress> routeQueries = new CopyOnWriteArrayList<>();
  final List<InetSocketAddress> bindQueries = new CopyOnWriteArrayList<>();
  final List<Integer> peerQueries = new CopyOnWriteArrayList<>();
  final BlockingQueue<ShimSession> opened = new LinkedBlockingQueue<>();
  final BlockingQueue<ShimSession> closed = new LinkedBlockingQueue<>();
  final List<Long> beats = new CopyOnWriteArrayList<>();
  final BlockingQueue<ListeningReport> listening = new LinkedBlockingQueue<>();
  final BlockingQueue<InetSocketAddress> unlistened = new LinkedBlockingQueue<>();
  volatile Verdict listeningVerdict = new Verdict.Ok();
  private final ShimControlServer server;

  FakeDaemon(Path socket) throws IOException {
    this.server = ShimControlServer.start(socket, this);
  }

  Path socket() {
    return server.socketPath();
  }

  @Override
  public void sessionOpened(ShimSession session) {
    opened.add(session);
  }

  @Override
  public void sessionClosed(ShimSession session) {
    closed.add(session);
  }

  @Override
  public void heartbeat(ShimSession session, long beat) {
    beats.add(beat);
  }

  @Override
  public Route route(ShimSession session, InetSocketAddress destination) {
    routeQueries.add(destination);
    return routes.getOrDefault(destination, new Route.Direct());
  }

  @Override
  public Verdict bind(ShimSession session, InetSocketAddress requested) {
    bindQueries.add(requested); // the shim no longer asks; a test asserts this stays empty
    return new Verdict.Ok();
  }

  @Override
  public Verdict listening(ShimSession session, InetSocketAddress requested, int actualPort) {
    listening.add(new ListeningReport(session.pid(), requested, actualPort));
    return listeningVerdict;
  }

  @Override
  public void unlistened(ShimSession session, InetSocketAddress requested) {
    unlistened.add(requested);
  }

  @Override
  public Optional<InetSocketAddress> peerOf(ShimSession session, int daemonPort) {
    peerQueries.add(daemonPort);
    return Optional.ofNullable(peers.get(daemonPort));
  }

  @Override
  public void close() {
    server.close();
  }
}
