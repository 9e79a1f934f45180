package dev.armor.demo.audio;

import static dev.armor.demo.audio.LineCapture.fields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mains as others will run them: child JVMs on a plain class path holding only this module's classes (no
 * dependencies), output read line by line, SIGTERM through {@link ProcessHandle#destroy()}.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class MainProcessTest {

    @TempDir
    Path dir;

    private final List<Child> children = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Child child : children) {
            child.process.destroyForcibly();
        }
    }

    /** A child JVM whose stdout lines are collected as they come; stderr is kept for failure messages. */
    private static final class Child {
        final Process process;
        final List<String> out = new CopyOnWriteArrayList<>();
        final List<String> err = new CopyOnWriteArrayList<>();
        private final Thread outPump;
        private final Thread errPump;

        Child(Process process) {
            this.process = process;
            outPump = pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), out);
            errPump = pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), err);
        }

        private static Thread pump(BufferedReader reader, List<String> into) {
            Thread t = new Thread(() -> {
                try (reader) {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        into.add(line);
                    }
                } catch (IOException e) {
                    // the child is gone
                }
            }, "child-output");
            t.setDaemon(true);
            t.start();
            return t;
        }

        boolean has(String prefix) {
            return out.stream().anyMatch(l -> l.startsWith(prefix));
        }

        String first(String prefix) {
            return out.stream().filter(l -> l.startsWith(prefix)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + prefix + " in " + out + " / " + err));
        }

        int awaitExit() throws InterruptedException {
            assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("exited; stderr %s", err).isTrue();
            outPump.join(5000); // the last lines may still be in the pipe
            errPump.join(5000);
            return process.exitValue();
        }
    }

    private Child java(String mainClass, String... args) throws Exception {
        Path classes = Path.of(AudioServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes.toString(), mainClass));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        Child child = new Child(builder.start());
        children.add(child);
        return child;
    }

    /** SIGTERM, keeping the pipes open (Process.destroy() would close them, losing the last lines). */
    private static void sigterm(Child child) {
        child.process.toHandle().destroy();
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev.armor.demo.audio.AudioServer", "dev.armor.demo.audio.NioAudioServer"})
    void sigterm_stopsTheServerCleanly_andTheClientReportsEofWithExitCodeOne(String serverMain) throws Exception {
        Child server = java(serverMain, "--port", "0", "--host", "127.0.0.1");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.has("LISTENING "));
        String port = fields(server.first("LISTENING ")).get("port");

        Child client = java("dev.armor.demo.audio.AudioClient", "--host", "127.0.0.1", "--port", port, "--events",
                "--out", "client.wav");
        await().atMost(Duration.ofSeconds(10)).until(() -> client.has("EVENT first-data "));
        await().atMost(Duration.ofSeconds(5)).until(() -> server.has("CONNECT "));

        sigterm(server);

        assertThat(server.awaitExit()).as("the JVM's exit code for SIGTERM").isEqualTo(143);
        assertThat(server.first("DISCONNECT ")).contains("reason=shutdown");
        assertThat(server.out.get(server.out.size() - 1)).startsWith("STOPPED t=");
        assertThat(server.err).isEmpty();

        assertThat(client.awaitExit()).isEqualTo(1);
        assertThat(client.has("EVENT eof t=")).isTrue();
        assertThat(fields(client.first("SUMMARY "))).containsEntry("eof", "true").containsEntry("errors", "0");
        assertThat(dir.resolve("client.wav")).exists();
    }

    @Test
    void sigterm_onTheClient_stillPrintsTheSummary() throws Exception {
        Child server = java("dev.armor.demo.audio.AudioServer", "--port", "0", "--host", "127.0.0.1");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.has("LISTENING "));
        String port = fields(server.first("LISTENING ")).get("port");
        Child client = java("dev.armor.demo.audio.AudioClient", "--port", port, "--events", "--out", "c.wav");
        await().atMost(Duration.ofSeconds(10)).until(() -> client.has("EVENT first-data "));

        sigterm(client);

        assertThat(client.awaitExit()).isEqualTo(143);
        assertThat(fields(client.first("SUMMARY "))).containsEntry("eof", "false").containsEntry("errors", "0");
        WavFileSinkTest.assertValidHeader(dir.resolve("c.wav"), 8000);
        sigterm(server);
        server.awaitExit();
    }

    @Test
    void badArguments_exitWithTwo_andSayWhy() throws Exception {
        Child client = java("dev.armor.demo.audio.AudioClient", "--host", "127.0.0.1");
        assertThat(client.awaitExit()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(2)).until(() -> client.err.contains("AudioClient: --port is required"));
        Child server = java("dev.armor.demo.audio.NioAudioServer", "--port", "99999");
        assertThat(server.awaitExit()).isEqualTo(2);
    }
}
