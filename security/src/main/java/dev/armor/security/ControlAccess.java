package dev.armor.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may make which call on a gRPC service: each method names the roles it accepts; the caller's role is the one
 * in the client certificate the TLS handshake verified. A method the table does not name is refused (a new call
 * must be given its roles to be callable at all).
 *
 * <p>The verified caller is in the call's {@link Context} ({@link #caller()}) for the service to log.
 */
public final class ControlAccess implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(ControlAccess.class);
  private static final Context.Key<Identity> CALLER = Context.key("armor-caller");
  /** A refusal is logged at most once a second, with how many were not: a peer cannot storm the log. */
  private static final long LOG_INTERVAL_NANOS = 1_000_000_000L;

  private final Map<String, Set<Role>> rolesByMethod;
  private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
  private final AtomicLong unlogged = new AtomicLong();

  /** @param rolesByMethod full method name ({@code service/Method}) to the roles that may call it */
  public ControlAccess(Map<String, Set<Role>> rolesByMethod) {
    this.rolesByMethod = Map.copyOf(rolesByMethod);
  }

  /** The verified caller of the current call, in a service's method. */
  public static Optional<Identity> caller() {
    return Optional.ofNullable(CALLER.get());
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Optional<Identity> caller = callerOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    Set<Role> allowed = rolesByMethod.getOrDefault(method, Set.of());
    if (caller.isEmpty() || !allowed.contains(caller.get().role())) {
      String why = caller.isEmpty()
          ? "the control API takes only calls with a certificate of this cluster"
          : method.substring(method.lastIndexOf('/') + 1) + " needs the " + describe(allowed) + " role; "
              + caller.get() + " has the " + caller.get().role() + " role";
      refused(call, why);
      call.close(caller.isEmpty() ? Status.UNAUTHENTICATED.withDescription(why) : Status.PERMISSION_DENIED.withDescription(why),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(CALLER, caller.get()), call, headers, next);
  }

  private static Optional<Identity> callerOf(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? Identity.of(x509) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  private static String describe(Set<Role> roles) {
    return roles.isEmpty() ? "no" : String.join(" or ", roles.stream().map(Role::toString).sorted().toList());
  }

  private void refused(ServerCall<?, ?> call, String why) {
    long now = System.nanoTime();
    long last = lastLogged.get();
    if (now - last < LOG_INTERVAL_NANOS || !lastLogged.compareAndSet(last, now)) {
      unlogged.incrementAndGet();
      return;
    }
    long skipped = unlogged.getAndSet(0);
    log.warn("refused a control call from {}: {}{}", call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), why,
        skipped == 0 ? "" : " (and " + skipped + " other refusal(s) since the last one logged)");
  }
}
