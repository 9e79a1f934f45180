package dev.armor.demo.audio;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** An {@link AudioClient} running on its own thread, with its stdout captured. */
final class ClientRun {

    final LineCapture out = new LineCapture();
    final LineCapture err = new LineCapture();
    final AudioClient client;
    final CompletableFuture<Integer> exitCode;

    private ClientRun(String... args) {
        this.client = new AudioClient(ClientOptions.parse(args), out.stream(), err.stream());
        this.exitCode = CompletableFuture.supplyAsync(client::run);
    }

    static ClientRun start(String... args) {
        return new ClientRun(args);
    }

    int awaitExit() throws Exception {
        return exitCode.get(10, TimeUnit.SECONDS);
    }

    String summary() {
        return out.startingWith("SUMMARY").stream().reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no SUMMARY in " + out.lines() + " / " + err.lines()));
    }
}
