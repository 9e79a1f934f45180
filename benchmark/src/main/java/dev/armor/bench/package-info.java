/**
 * The Armor benchmark (issue 5): what protection costs, measured side by side against a direct connection and
 * plain dual proxies. Start at {@link dev.armor.bench.Bench} (the orchestrator behind {@code scripts/bench});
 * the other classes are the child processes it starts: {@link dev.armor.bench.EchoServer},
 * {@link dev.armor.bench.PlainRelay}, {@link dev.armor.bench.BenchClient} and {@link dev.armor.bench.BindBench}.
 * Every measurement is taken inside a long-lived JVM, so JVM and agent start-up never count. Run by hand, for
 * finding where time goes: {@link dev.armor.bench.AudioProbe} (a late audio chunk's delay, server against path),
 * {@link dev.armor.bench.NettyPlainRelay} (the plain relay on Netty's event loop: the floor under the daemons' data
 * path) and {@link dev.armor.bench.HopProbe} (a ping-pong through zero, one or two relays, blocking or Netty, over TCP
 * loopback or Unix-domain sockets).
 */
package dev.armor.bench;
