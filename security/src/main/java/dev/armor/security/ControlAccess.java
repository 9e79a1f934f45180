package dev.armor.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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

  private final Map<String, Set<Role>> rolesByMethod;
  private final RefusalLog refusals = new RefusalLog(log, "the control API");

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
    Optional<Identity> caller = Identity.ofPeer(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    Set<Role> allowed = rolesByMethod.getOrDefault(method, Set.of());
    if (caller.isEmpty() || !allowed.contains(caller.get().role())) {
      String why = caller.isEmpty()
          ? "the control API takes only calls with a certificate of this cluster"
          : method.substring(method.lastIndexOf('/') + 1) + " needs the " + describe(allowed) + " role; "
              + caller.get() + " has the " + caller.get().role() + " role";
      refusals.refused(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), why);
      call.close(caller.isEmpty() ? Status.UNAUTHENTICATED.withDescription(why) : Status.PERMISSION_DENIED.withDescription(why),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(CALLER, caller.get()), call, headers, next);
  }

  private static String describe(Set<Role> roles) {
    return roles.isEmpty() ? "no" : String.join(" or ", roles.stream().map(Role::toString).sorted().toList());
  }
}
