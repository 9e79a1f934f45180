package dev.armor.shim.internal;

import dev.armor.shim.internal.advice.Hook;
import java.io.FileDescriptor;
import java.lang.annotation.Annotation;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The hooks the inlined advice calls: each is a public static {@code MethodHandle} field of the hook class, named
 * after the constant, of exactly {@link #type()} (the advice calls {@code invokeExact}), and bound to the advice
 * parameter annotated with {@link #annotation()}.
 */
enum HookPoint {
  CONNECT(Hook.Connect.class, InetSocketAddress.class, InetAddress.class, int.class),
  CONNECTED(Hook.Connected.class, void.class, FileDescriptor.class),
  SOCKET_BIND(Hook.SocketBind.class, InetSocketAddress.class, InetAddress.class, int.class),
  SOCKET_BOUND(Hook.SocketBound.class, void.class, Object.class, FileDescriptor.class, InetSocketAddress.class, int.class),
  SOCKET_ACCEPTED(Hook.SocketAccepted.class, void.class, Object.class),
  CHANNEL_BIND(Hook.ChannelBind.class, SocketAddress.class, SocketAddress.class),
  CHANNEL_BOUND(Hook.ChannelBound.class, SocketAddress.class, Object.class, SocketAddress.class, SocketAddress.class),
  CHANNEL_ACCEPTED(Hook.ChannelAccepted.class, SocketAddress.class, FileDescriptor.class, SocketAddress.class),
  SOCKET_LOCAL_ADDRESS(Hook.SocketLocalAddress.class, Object.class, Object.class, Object.class),
  CHANNEL_ACCEPTED_LOCAL(Hook.ChannelAcceptedLocal.class, void.class, Object.class),
  LISTENER_CLOSED(Hook.ListenerClosed.class, void.class, Object.class),
  NETTY_CONNECT(Hook.NettyConnect.class, SocketAddress.class, Object.class, SocketAddress.class),
  NETTY_CONNECTED(Hook.NettyConnected.class, void.class, Object.class),
  NETTY_BIND(Hook.NettyBind.class, SocketAddress.class, SocketAddress.class),
  NETTY_BOUND(Hook.NettyBound.class, void.class, Object.class, SocketAddress.class),
  NETTY_LISTENING(Hook.NettyListening.class, void.class, Object.class),
  NETTY_LOCAL_ADDRESS(Hook.NettyLocalAddress.class, InetSocketAddress.class, Object.class, InetSocketAddress.class),
  NETTY_REMOTE_ADDRESS(Hook.NettyRemoteAddress.class, InetSocketAddress.class, Object.class, InetSocketAddress.class),
  NETTY_ACCEPTED(Hook.NettyAccepted.class, void.class, Object.class, byte[].class),
  NETTY_CLOSED(Hook.NettyClosed.class, void.class, Object.class);

  private final Class<? extends Annotation> annotation;
  private final MethodType type;

  HookPoint(Class<? extends Annotation> annotation, Class<?> returns, Class<?>... parameters) {
    this.annotation = annotation;
    this.type = MethodType.methodType(returns, parameters);
  }

  Class<? extends Annotation> annotation() {
    return annotation;
  }

  MethodType type() {
    return type;
  }
}
