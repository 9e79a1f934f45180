package dev.armor.demo.audio;

import java.io.PrintStream;

/**
 * The servers' stdout log: one line per event, {@code KEYWORD key=value ... t=<epochMillis>}, free text last.
 *
 * <pre>
 * LISTENING host=0.0.0.0 port=7000 rate=8000 chunk_bytes=400 server=blocking t=... lead_bytes=8000
 * CONNECT id=1 remote=/127.0.0.1:53422 t=...
 * DISCONNECT id=1 remote=/127.0.0.1:53422 bytes=81600 duration_ms=10203 t=... reason=peer-closed|shutdown|io-error detail...
 * STOPPED t=...
 * </pre>
 */
final class ServerLog {

    private final PrintStream out;

    ServerLog(PrintStream out) {
        this.out = out;
    }

    void listening(ServerOptions options, int port, String kind) {
        line("LISTENING host=" + options.hostForDisplay() + " port=" + port + " rate=" + options.sampleRate()
                + " chunk_bytes=" + options.chunkBytes() + " server=" + kind + " t=" + now()
                + " lead_bytes=" + options.leadBytes());
    }

    void connect(long id, Object remote) {
        line("CONNECT id=" + id + " remote=" + remote + " t=" + now());
    }

    void disconnect(long id, Object remote, long bytes, long durationMillis, String reason) {
        line("DISCONNECT id=" + id + " remote=" + remote + " bytes=" + bytes + " duration_ms=" + durationMillis
                + " t=" + now() + " reason=" + reason);
    }

    void acceptFailed(Exception e) {
        line("ACCEPT-ERROR t=" + now() + " error=" + describe(e));
    }

    void stopped() {
        line("STOPPED t=" + now());
    }

    static String describe(Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ').replace('\r', ' ');
        return e.getClass().getName() + ": " + message;
    }

    private static long now() {
        return System.currentTimeMillis();
    }

    private void line(String s) {
        synchronized (out) {
            out.println(s);
            out.flush();
        }
    }
}
