package dev.armor.shim.control;

import dev.armor.shim.control.ShimMessage.Direct;
import dev.armor.shim.control.ShimMessage.Fail;
import dev.armor.shim.control.ShimMessage.NoPeer;
import dev.armor.shim.control.ShimMessage.Ok;
import dev.armor.shim.control.ShimMessage.Peer;
import dev.armor.shim.control.ShimMessage.Via;
import dev.armor.shim.control.ShimRequestHandler.Route;
import dev.armor.shim.control.ShimRequestHandler.Verdict;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/** The handler's answers as wire messages. A null answer is a handler bug, reported as such to the shim. */
final class Answers {
  private Answers() {}

  static ShimMessage route(Route route) {
    Objects.requireNonNull(route, "ShimRequestHandler.route returned null");
    if (route instanceof Route.Via via) {
      return new Via(via.port());
    } else if (route instanceof Route.Fail fail) {
      return new Fail(fail.message());
    }
    return new Direct();
  }

  static ShimMessage verdict(Verdict verdict) {
    Objects.requireNonNull(verdict, "ShimRequestHandler verdict was null");
    if (verdict instanceof Verdict.Fail fail) {
      return new Fail(fail.message());
    }
    return new Ok();
  }

  static ShimMessage peer(Optional<InetSocketAddress> peer) {
    Objects.requireNonNull(peer, "ShimRequestHandler.peerOf returned null");
    return peer.filter(address -> !address.isUnresolved()).<ShimMessage>map(Peer::new).orElse(new NoPeer());
  }
}
