package dev.armor.demo.audio;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * One connection of the client, in one of the three flavours of {@link ClientOptions.Transport}, so that Armor
 * can be tried against classic sockets, blocking channels and selector-driven non-blocking channels.
 *
 * <p>{@link #read} blocks until data or end of stream; {@link #close()} may be called from another thread and
 * makes a blocked {@code read} fail promptly (the caller knows it is stopping and ignores that failure).
 * {@link #send} may be called by one thread while another is blocked in {@code read}, and neither waits for the
 * other: sockets and channels lock reading and writing separately (so the channel flavours read and write the
 * channel itself, not through {@code Channels.newInputStream}, whose reads on a blocking channel hold the lock a
 * write needs), and the selector flavour waits for writability on a selector of its own.
 */
abstract class ClientConnection implements Closeable {

    static ClientConnection open(ClientOptions.Transport transport, InetSocketAddress address, int timeoutMillis)
            throws IOException {
        return switch (transport) {
            case SOCKET -> SocketConnection.connect(address, timeoutMillis);
            case NIO_BLOCKING -> BlockingChannelConnection.connect(address);
            case NIO_NONBLOCKING -> SelectorConnection.connect(address, timeoutMillis);
        };
    }

    /** Writes all of {@code data}. */
    abstract void send(byte[] data) throws IOException;

    /** Reads at least one byte into {@code buffer} and returns how many, or -1 at end of stream. */
    abstract int read(byte[] buffer) throws IOException;

    abstract String localAddress();

    abstract String remoteAddress();

    /** {@code java.net.Socket} and its streams. */
    private static final class SocketConnection extends ClientConnection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        private SocketConnection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        static SocketConnection connect(InetSocketAddress address, int timeoutMillis) throws IOException {
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                socket.connect(address, timeoutMillis);
                return new SocketConnection(socket);
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
        }

        @Override
        void send(byte[] data) throws IOException {
            out.write(data);
            out.flush();
        }

        @Override
        int read(byte[] buffer) throws IOException {
            int n;
            do {
                n = in.read(buffer);
            } while (n == 0);
            return n;
        }

        @Override
        String localAddress() {
            return String.valueOf(socket.getLocalSocketAddress());
        }

        @Override
        String remoteAddress() {
            return String.valueOf(socket.getRemoteSocketAddress());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A {@code SocketChannel} in blocking mode; connects with the OS's connect timeout. */
    private static final class BlockingChannelConnection extends ClientConnection {
        private final SocketChannel channel;
        private final String local;
        private final String remote;

        private BlockingChannelConnection(SocketChannel channel) throws IOException {
            this.channel = channel;
            this.local = String.valueOf(channel.getLocalAddress());
            this.remote = String.valueOf(channel.getRemoteAddress());
        }

        static BlockingChannelConnection connect(InetSocketAddress address) throws IOException {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.connect(address);
                return new BlockingChannelConnection(channel);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        @Override
        void send(byte[] data) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }

        @Override
        int read(byte[] buffer) throws IOException {
            ByteBuffer target = ByteBuffer.wrap(buffer);
            int n;
            do {
                n = channel.read(target);
            } while (n == 0);
            return n;
        }

        @Override
        String localAddress() {
            return local;
        }

        @Override
        String remoteAddress() {
            return remote;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * A non-blocking {@code SocketChannel} driven by {@code Selector}s, connect included: one for reading (and
     * connecting), one for writing, so that a writer waiting for room never changes the interest of, or waits
     * for the selector of, a reader waiting for data.
     */
    private static final class SelectorConnection extends ClientConnection {
        private final SocketChannel channel;
        private final Selector selector;
        private final SelectionKey key;
        private final Selector writeSelector;
        private final SelectionKey writeKey;
        private final String local;
        private final String remote;
        private volatile boolean closed;

        private SelectorConnection(SocketChannel channel, Selector selector, SelectionKey key) throws IOException {
            this.channel = channel;
            this.selector = selector;
            this.key = key;
            this.local = String.valueOf(channel.getLocalAddress());
            this.remote = String.valueOf(channel.getRemoteAddress());
            this.writeSelector = Selector.open();
            try {
                this.writeKey = channel.register(writeSelector, 0);
            } catch (IOException | RuntimeException e) {
                writeSelector.close();
                throw e;
            }
        }

        static SelectorConnection connect(InetSocketAddress address, int timeoutMillis) throws IOException {
            SocketChannel channel = SocketChannel.open();
            Selector selector = null;
            try {
                selector = Selector.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                SelectionKey key = channel.register(selector, 0);
                if (!channel.connect(address)) {
                    key.interestOps(SelectionKey.OP_CONNECT);
                    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
                    while (!channel.finishConnect()) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new SocketTimeoutException("connect timed out after " + timeoutMillis + " ms");
                        }
                        selector.select(Math.max(1, left / 1_000_000));
                        selector.selectedKeys().clear();
                    }
                }
                key.interestOps(0);
                return new SelectorConnection(channel, selector, key);
            } catch (IOException | RuntimeException e) {
                channel.close();
                if (selector != null) {
                    selector.close();
                }
                throw e;
            }
        }

        @Override
        void send(byte[] data) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            channel.write(buffer);
            while (buffer.hasRemaining()) {
                await(writeSelector, writeKey, SelectionKey.OP_WRITE);
                channel.write(buffer);
            }
        }

        @Override
        int read(byte[] buffer) throws IOException {
            ByteBuffer target = ByteBuffer.wrap(buffer);
            int n;
            while ((n = channel.read(target)) == 0) {
                await(selector, key, SelectionKey.OP_READ);
            }
            return n;
        }

        private void await(Selector selector, SelectionKey key, int ops) throws IOException {
            try {
                key.interestOps(ops);
                selector.select();
                selector.selectedKeys().clear();
            } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
                throw new AsynchronousCloseException();
            }
            if (closed) {
                throw new AsynchronousCloseException();
            }
        }

        @Override
        String localAddress() {
            return local;
        }

        @Override
        String remoteAddress() {
            return remote;
        }

        @Override
        public void close() throws IOException {
            closed = true;
            try {
                selector.wakeup();
                writeSelector.wakeup();
                channel.close();
            } finally {
                try {
                    selector.close();
                } finally {
                    writeSelector.close();
                }
            }
        }
    }
}
