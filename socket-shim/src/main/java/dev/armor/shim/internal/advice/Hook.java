package dev.armor.shim.internal.advice;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an advice parameter that receives one of the shim's hooks: a {@code MethodHandle} read from a static field
 * of the hook class that the runtime defines inside {@code sun.nio.ch} (see {@code HookPoint} for each hook's
 * exact type). The advice is inlined into {@code java.base}, which cannot see the shim's classes; a {@code
 * MethodHandle} is a JDK type, so the inlined code can call through it into the shim.
 */
public final class Hook {
  private Hook() {}

  /** {@code (InetAddress remote, int port) -> InetSocketAddress}: the address to connect to instead, or null. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface Connect {}

  /** {@code (FileDescriptor fd) -> void}: a TCP connect completed; throws to fail it (a self-connection). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface Connected {}

  /** {@code (InetAddress host, int port) -> InetSocketAddress}: what a server {@code SocketImpl} binds instead. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface SocketBind {}

  /** {@code (Object impl, FileDescriptor fd, InetSocketAddress requested, int actualPort) -> void}. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface SocketBound {}

  /** {@code (Object acceptedImpl) -> void}. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface SocketAccepted {}

  /** {@code (SocketAddress local) -> SocketAddress}: what a server channel binds instead, or null. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface ChannelBind {}

  /** {@code (Object channel, SocketAddress requested, SocketAddress actual) -> SocketAddress} to report. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface ChannelBound {}

  /** {@code (FileDescriptor acceptedFd, SocketAddress peer) -> SocketAddress}: the peer to report. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface ChannelAccepted {}

  /** {@code (Object owner) -> void}: a server socket or channel is closing. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface ListenerClosed {}

  /** {@code SocketImpl.getOption(SO_BINDADDR)}'s answer for an accepted socket: its reported local address. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface SocketLocalAddress {}

  /** An accepted channel was made: its local address may be reported as the service's. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface ChannelAcceptedLocal {}

  /**
   * {@code (Object nettySocket, SocketAddress remote) -> SocketAddress}: what a Netty native socket connects to
   * instead, or null to connect as asked.
   */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyConnect {}

  /** {@code (Object nettySocket) -> void}: a Netty native connect completed; throws to fail a self-connection. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyConnected {}

  /**
   * {@code (SocketAddress local) -> SocketAddress}: what a Netty native socket binds instead of {@code local}, or null
   * (a client socket's bind, a port 0, a domain socket: left alone).
   */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyBind {}

  /** {@code (Object nettySocket, SocketAddress requested) -> void}: a rerouted Netty bind returned. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyBound {}

  /** {@code (Object nettySocket) -> void}: a Netty native socket listens; registers a rerouted one, or throws. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyListening {}

  /** {@code (Object nettySocket, InetSocketAddress actual) -> InetSocketAddress}: the local address to report. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyLocalAddress {}

  /** {@code (Object nettySocket, InetSocketAddress actual) -> InetSocketAddress}: the remote address to report. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyRemoteAddress {}

  /** {@code (Object listeningSocket, byte[] acceptedAddress) -> void}: rewrites the accepted peer in place. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyAccepted {}

  /** {@code (Object nettyFileDescriptor) -> void}: a Netty file descriptor is closing. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  public @interface NettyClosed {}
}
