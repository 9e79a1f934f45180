/**
 * Byte Buddy advice inlined into {@code java.base} ({@code sun.nio.ch.Net}, {@code NioSocketImpl}, {@code
 * ServerSocketChannelImpl}, {@code AsynchronousServerSocketChannelImpl} and its Unix subclass), and into the app's
 * copies of Netty's {@code io.netty.channel.unix.Socket} and {@code FileDescriptor} ({@code Netty*Advice}). Each advice is a few lines that call a {@link dev.armor.shim.internal.advice.Hook}
 * (a {@code MethodHandle} held by a class the runtime defined inside {@code sun.nio.ch}) and write the answer back
 * into the JDK's arguments, return value or fields; the decisions live in the runtime's interceptors. Advice code
 * must use JDK types only and nothing javac compiles to a hidden helper (no lambdas, no string concatenation), as
 * it is copied into classes that cannot see the shim. Start with {@link
 * dev.armor.shim.internal.advice.NetConnectAdvice}.
 */
package dev.armor.shim.internal.advice;
