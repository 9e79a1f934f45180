package dev.armor.demo.audio;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/** A PrintStream that collects complete lines, safe to read from other threads (for Awaitility). */
final class LineCapture {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final PrintStream stream;

    LineCapture() {
        OutputStream sink = new OutputStream() {
            private final ByteArrayOutputStream current = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    lines.add(current.toString(StandardCharsets.UTF_8));
                    current.reset();
                } else if (b != '\r') {
                    current.write(b);
                }
            }
        };
        this.stream = new PrintStream(sink, true, StandardCharsets.UTF_8);
    }

    PrintStream stream() {
        return stream;
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    List<String> startingWith(String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).collect(Collectors.toList());
    }

    boolean has(String prefix) {
        return lines.stream().anyMatch(l -> l.startsWith(prefix));
    }

    /** The {@code key=value} fields of an output line (the first word is skipped). */
    static Map<String, String> fields(String line) {
        Map<String, String> fields = new HashMap<>();
        String[] words = line.split(" ");
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
                fields.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
        }
        return fields;
    }

    static long longField(String line, String key) {
        String v = fields(line).get(key);
        if (v == null) {
            throw new AssertionError("no " + key + "= in: " + line);
        }
        return Long.parseLong(v);
    }
}
