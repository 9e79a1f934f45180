package dev.armor.ftm;

import com.typesafe.config.Config;
import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumSet;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * The cluster transport's TLS (Artery {@code tls-tcp}): both ends of every connection show a node certificate of
 * this cluster's CA, checked by the same trust as every other Armor channel ({@link Credentials#sslContext}). A peer
 * without one fails the handshake, before Pekko reads any of its frames; an operator's or reader's certificate is not
 * a node's and fails too.
 *
 * <p>Pekko creates it by reflection from {@code pekko.remote.artery.ssl.ssl-engine-provider}, with the node's files
 * in {@code armor.tls} ({@link #hocon}). The files are read again after {@link #REREAD_NANOS}, so a node certificate
 * issued anew ({@code armor enrol}) is taken up by new connections without a restart.
 */
public final class ClusterTransportTls implements SSLEngineProvider {

  private static final Logger log = LoggerFactory.getLogger(ClusterTransportTls.class);
  static final long REREAD_NANOS = 60_000_000_000L;

  private final ActorSystem system;
  private final Credentials credentials;
  private volatile SSLContext context;
  private volatile long loadedAt;

  public ClusterTransportTls(ActorSystem system) {
    this.system = system;
    Config tls = system.settings().config().getConfig("armor.tls");
    this.credentials = new Credentials(Identity.node(tls.getString("node")), Path.of(tls.getString("certificate")),
        Path.of(tls.getString("key")), Path.of(tls.getString("ca")));
    try {
      this.context = credentials.sslContext(EnumSet.of(Role.NODE));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.loadedAt = System.nanoTime();
  }

  /** The settings that make a node's cluster transport {@code tls-tcp} under {@code node}'s credentials. */
  public static String hocon(Credentials node) {
    if (node.identity().role() != Role.NODE) {
      throw new IllegalArgumentException("a cluster node needs a node certificate, not " + node.identity());
    }
    return "pekko.remote.artery.transport = tls-tcp\n"
        + "pekko.remote.artery.ssl.ssl-engine-provider = \"" + ClusterTransportTls.class.getName() + "\"\n"
        + "armor.tls.node = " + quoted(node.identity().name()) + "\n"
        + "armor.tls.certificate = " + quoted(node.certificate().toAbsolutePath().toString()) + "\n"
        + "armor.tls.key = " + quoted(node.key().toAbsolutePath().toString()) + "\n"
        + "armor.tls.ca = " + quoted(node.ca().toAbsolutePath().toString()) + "\n";
  }

  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private SSLContext context() {
    long now = System.nanoTime();
    if (now - loadedAt > REREAD_NANOS) {
      loadedAt = now;
      try {
        context = credentials.sslContext(EnumSet.of(Role.NODE));
      } catch (IOException e) {
        log.warn("cannot read this node's credentials again; keeping the ones in use: {}", e.getMessage());
      }
    }
    return context;
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    SSLEngine engine = context().createSSLEngine(hostname, port);
    engine.setUseClientMode(false);
    engine.setNeedClientAuth(true);
    return engine;
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    SSLEngine engine = context().createSSLEngine(hostname, port);
    engine.setUseClientMode(true);
    return engine;
  }

  /**
   * An outgoing connection (Pekko verifies the session of its client engines here), to a member's own address (the
   * engine's peer host and port): the certificate it showed names that member's node ({@link ClusterPeers}). The
   * trust manager has checked the chain and the role during the handshake. The extension is looked up here, after
   * the system has started, not while Pekko builds this provider during its start.
   */
  @Override
  public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
    Identity.ofPeer(session).ifPresent(peer ->
        ClusterPeers.get(system).certified(session.getPeerHost() + ":" + session.getPeerPort(), peer.name()));
    return Option.empty();
  }

  /** An incoming connection: the trust manager has checked the chain and the role; which member it is, it cannot say. */
  @Override
  public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
    return Option.empty();
  }
}
