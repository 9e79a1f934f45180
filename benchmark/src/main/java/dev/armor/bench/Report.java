package dev.armor.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's output: one Markdown table per measurement (each figure followed by its ratio to the direct
 * connection and to the best unprotected dual proxy for that figure), the placement line, and the same data as
 * JSON.
 */
final class Report {

  static final List<String> SETUPS = List.of(Bench.DIRECT, Bench.RELAY, Bench.SOCAT, Bench.HAPROXY, Bench.ARMOR,
      Bench.ARMOR_PROCESS);
  static final List<String> PROXIES = List.of(Bench.RELAY, Bench.SOCAT, Bench.HAPROXY);

  private final boolean smoke;
  private final String placement;
  private final Map<String, Map<String, Double>> results;
  private final Map<String, String> skipped;
  private final Map<String, Map<String, List<Double>>> recoverySamples;
  private final Bench.Counts counts;
  private final double elapsedSeconds;
  private final String finishedAt;

  Report(boolean smoke, String placement, Map<String, Map<String, Double>> results, Map<String, String> skipped,
      Map<String, Map<String, List<Double>>> recoverySamples, Bench.Counts counts, double elapsedSeconds, String finishedAt) {
    this.smoke = smoke;
    this.placement = placement;
    this.results = results;
    this.skipped = skipped;
    this.recoverySamples = recoverySamples;
    this.counts = counts;
    this.elapsedSeconds = elapsedSeconds;
    this.finishedAt = finishedAt;
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# Armor benchmark").append(smoke ? " (smoke run: tiny counts, figures not meaningful)" : "")
        .append("\n\n");
    md.append(placement).append("\n\n");
    md.append(String.format(Locale.ROOT, "Finished %s after %.0f s. Setups: %s.%s%n%n", finishedAt, elapsedSeconds,
        String.join(", ", present()), skipped.isEmpty() ? "" : " Skipped: " + skipped + "."));
    md.append("Each cell: the figure (ratio to direct / ratio to the best unprotected dual proxy for that figure). "
        + "`n/a`: not measured for that setup.\n\n");

    md.append(String.format(Locale.ROOT, "## Round-trip latency, one message in flight (µs; %d warm-up rounds "
        + "excluded, %d measured per size)%n%n", counts.warmup(), counts.iterations()));
    md.append("proxy CPU: the CPU time (user and kernel) the two proxy processes used per round trip over the "
        + "measured rounds (for Armor the two daemons; socat's per-connection children included), and the kernel's "
        + "part of it: what relaying costs, which unlike the wall time hardly moves with the machine's other load.\n\n");
    md.append("| size (B) | setup | p50 | p99 | p99.9 | proxy CPU | of it kernel |\n|---|---|---|---|---|---|---|\n");
    for (int size : BenchClient.SIZES) {
      for (String setup : present()) {
        String key = "latency." + size + ".";
        md.append("| ").append(size).append(" | ").append(setup).append(" | ")
            .append(cell(setup, key + "p50_us", false)).append(" | ")
            .append(cell(setup, key + "p99_us", false)).append(" | ")
            .append(cell(setup, key + "p999_us", false)).append(" | ")
            .append(cell(setup, key + "proxy_cpu_us", false)).append(" | ")
            .append(number(value(setup, key + "proxy_kernel_us"))).append(" |\n");
      }
    }

    md.append(String.format(Locale.ROOT, "%n## Socket calls (µs; connect and close over %d calls after %d warm-up, "
        + "bind over %d binds after %d warm-up)%n%n", counts.connects(), counts.connectWarmup(), counts.binds(),
        counts.bindWarmup()));
    md.append("connect: from `connect()` to the first byte echoed; close: from `shutdownOutput()` to the server's "
        + "close seen, plus `close()`; bind: `new ServerSocket(port)` (under Armor: includes registration with the "
        + "FTM; a proxy takes no part in a bind, so it is not measured for them); bind first p50: the median of the "
        + "first " + Bench.FIRST_BINDS + " warm-up binds, the first the cluster ever served (cold code paths, as a "
        + "server's rare binds mostly are).\n\n");
    md.append("| setup | connect mean | connect p50 | close mean | close p50 | bind mean | bind p50 "
        + "| bind first p50 |\n|---|---|---|---|---|---|---|---|\n");
    for (String setup : present()) {
      md.append("| ").append(setup);
      for (String key : List.of("connect.mean_us", "connect.p50_us", "close.mean_us", "close.p50_us",
          "bind.mean_us", "bind.p50_us", "bind.first_p50_us")) {
        md.append(" | ").append(cell(setup, key, false));
      }
      md.append(" |\n");
    }

    md.append(String.format(Locale.ROOT, "%n## Bulk throughput, client to server (MB/s; %d ms of 64 KiB writes per "
        + "connection, until the server counted every byte)%n%n", counts.bulkMillis()));
    md.append("| setup | 1 connection | 8 connections |\n|---|---|---|\n");
    for (String setup : present()) {
      md.append("| ").append(setup).append(" | ").append(cell(setup, "throughput.1.mb_s", true)).append(" | ")
          .append(cell(setup, "throughput.8.mb_s", true)).append(" |\n");
    }

    md.append("\n## Recovery (ms; from the failure injected to the client's first echo of a ping sent after it, "
        + "which only a new server instance can answer)\n\n");
    md.append("A client pings the protected server on one connection (8-byte messages, 1 ms apart); only Armor "
        + "recovers: without it the client's connection is reset. A ping the killed instance had read and never "
        + "answered ends the connection, as the crash does without Armor (issue 14); the client then connects again "
        + "and the recovery counts to its first echo all the same. Failures, each after the server ran 2.5 s: ");
    List<String> described = new ArrayList<>();
    for (Bench.Failure failure : Bench.Failure.values()) {
      described.add("`" + failure.key + "`: " + failure.description);
    }
    md.append(String.join("; ", described)).append(" (Armor's default timeouts")
        .append(smoke ? "; `--stable-after 3s` in this smoke run" : "").append(").\n\n");
    md.append("| setup | failure | injections | median | min | max |\n|---|---|---|---|---|---|\n");
    for (String setup : present()) {
      for (Bench.Failure failure : Bench.Failure.values()) {
        String key = "recovery." + failure.key + ".";
        if (value(setup, key + "count") != null) {
          md.append("| ").append(setup).append(" | ").append(failure.key)
              .append(" | ").append(integer(value(setup, key + "count")))
              .append(" | ").append(number(value(setup, key + "median_ms")))
              .append(" | ").append(number(value(setup, key + "min_ms")))
              .append(" | ").append(number(value(setup, key + "max_ms"))).append(" |\n");
        }
      }
    }
    md.append("\nWhere a server crash's recovery time goes (ms, medians over the kills; wall-clock milestones the new "
        + "server instance printed): kill to the new instance's `main` (detection, launch, JVM and shim start), "
        + "`main` to `new ServerSocket` returned (includes registration with the FTM), bind returned to the client's "
        + "first echo (re-attach, held bytes delivered, one round trip).\n\n");
    md.append("| setup | kill to main | main to bound | bound to first echo |\n|---|---|---|---|\n");
    for (String setup : present()) {
      if (value(setup, "recovery.phase.to_main_ms") != null) {
        md.append("| ").append(setup);
        for (String phase : List.of("to_main_ms", "bind_ms", "reattach_ms")) {
          md.append(" | ").append(number(value(setup, "recovery.phase." + phase)));
        }
        md.append(" |\n");
      }
    }

    md.append(String.format(Locale.ROOT, "%n## Idle connections: proxy memory per connection (KiB; %d idle "
        + "connections, both proxy processes summed)%n%n", counts.idle()));
    md.append("heap: used heap after a full GC (`jcmd GC.run`, `GC.heap_info`), while the connections are open minus "
        + "before; RSS: the same for the resident set (thread stacks and direct buffers show only here). The "
        + "direct connection has no proxy; socat forks a process per connection (not measured).\n\n");
    md.append("| setup | heap per connection | RSS per connection |\n|---|---|---|\n");
    for (String setup : present()) {
      if (value(setup, "idle.connections") != null) {
        md.append("| ").append(setup).append(" | ").append(cell(setup, "idle.heap_per_conn_kib", false))
            .append(" | ").append(cell(setup, "idle.rss_per_conn_kib", false)).append(" |\n");
      }
    }

    md.append(String.format(Locale.ROOT, "%n## Scale: idle connections through one pair of proxies (KiB; %d asked "
        + "for, both proxy processes summed)%n%n", counts.scale()));
    md.append("As the idle table, with many more connections (opened by 4 client threads; the server echoes them "
        + "with a 256-byte buffer). `connections`: how many were open and proven with an echoed byte when measured "
        + "(fewer than asked when a limit was hit; the log says which). Our blocking relay would need two threads per "
        + "connection in each of its processes, so it is compared through its figures per connection in the idle "
        + "table above. Target (issue 5): at most 32 KiB of heap per connection.\n\n");
    md.append("| setup | connections | heap per connection | RSS per connection |\n|---|---|---|---|\n");
    for (String setup : present()) {
      if (value(setup, "scale.connections") != null) {
        md.append("| ").append(setup).append(" | ").append(integer(value(setup, "scale.connections")))
            .append(" | ").append(number(value(setup, "scale.heap_per_conn_kib")))
            .append(" | ").append(number(value(setup, "scale.rss_per_conn_kib"))).append(" |\n");
      }
    }

    md.append(String.format(Locale.ROOT, "%n## Scale: audio-rate streams (%d streams of 8 KB/s: 400 bytes every "
        + "50 ms each; %d ms after the last one opened)%n%n", counts.audioStreams(), counts.audioMillis()));
    md.append("The server paces every stream from 4 shared threads; the client opens them from 2 threads and reads "
        + "them all from one selector thread. Each stream is played as with a 200 ms buffer (playback starts 200 ms "
        + "after its first bytes, 8 bytes per ms); an underrun: its bytes had all been played when the next ones "
        + "came (it then re-buffers 200 ms). `all`: from each stream's first bytes on, the opening of the others "
        + "included; `steady`: after the last stream opened. Target (issue 5): no underrun.\n\n");
    md.append("| setup | streams | open (s) | underruns, all | underruns, steady | streams with an underrun | worst "
        + "stream | longest gap (ms) | ended early |\n|---|---|---|---|---|---|---|---|---|\n");
    for (String setup : present()) {
      if (value(setup, "audio.streams") != null) {
        md.append("| ").append(setup);
        md.append(" | ").append(integer(value(setup, "audio.streams")));
        md.append(" | ").append(number(value(setup, "audio.open_s")));
        md.append(" | ").append(integer(value(setup, "audio.underruns")));
        md.append(" | ").append(integer(value(setup, "audio.underruns_steady")));
        md.append(" | ").append(integer(value(setup, "audio.streams_with_underrun")));
        md.append(" | ").append(integer(value(setup, "audio.worst_stream_underruns")));
        md.append(" | ").append(number(value(setup, "audio.max_gap_ms")));
        md.append(" | ").append(integer(value(setup, "audio.ended_early"))).append(" |\n");
      }
    }
    return md.toString();
  }

  String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("smoke", smoke);
    root.put("placement", placement);
    root.put("finished_at", finishedAt);
    root.put("elapsed_s", elapsedSeconds);
    Map<String, Object> countsJson = new LinkedHashMap<>();
    countsJson.put("latency_warmup", counts.warmup());
    countsJson.put("latency_iterations", counts.iterations());
    countsJson.put("connect_warmup", counts.connectWarmup());
    countsJson.put("connects", counts.connects());
    countsJson.put("bulk_millis", counts.bulkMillis());
    countsJson.put("binds", counts.binds());
    countsJson.put("bind_warmup", counts.bindWarmup());
    countsJson.put("kills", counts.kills());
    countsJson.put("hangs", counts.hangs());
    countsJson.put("armor_kills", counts.armorKills());
    countsJson.put("daemon_kills", counts.daemonKills());
    countsJson.put("idle_connections", counts.idle());
    countsJson.put("scale_connections", counts.scale());
    countsJson.put("audio_streams", counts.audioStreams());
    countsJson.put("audio_millis", counts.audioMillis());
    root.put("counts", countsJson);
    root.put("setups", present());
    root.put("skipped", skipped);
    Map<String, Map<String, Double>> finite = new LinkedHashMap<>();
    results.forEach((setup, figures) -> {
      Map<String, Double> copy = new LinkedHashMap<>();
      figures.forEach((key, v) -> copy.put(key, v == null || v.isNaN() || v.isInfinite() ? null : v));
      finite.put(setup, copy);
    });
    root.put("results", finite);
    root.put("recovery_samples_ms", recoverySamples);
    return Bench.toJson(root);
  }

  private List<String> present() {
    List<String> present = new ArrayList<>();
    for (String setup : SETUPS) {
      if (results.containsKey(setup)) {
        present.add(setup);
      }
    }
    return present;
  }

  private Double value(String setup, String key) {
    Map<String, Double> figures = results.get(setup);
    return figures == null ? null : figures.get(key);
  }

  private Double bestProxy(String key, boolean higherIsBetter) {
    Double best = null;
    for (String proxy : PROXIES) {
      Double v = value(proxy, key);
      if (v != null && (best == null || (higherIsBetter ? v > best : v < best))) {
        best = v;
      }
    }
    return best;
  }

  private String cell(String setup, String key, boolean higherIsBetter) {
    Double v = value(setup, key);
    if (v == null) {
      return "n/a";
    }
    return number(v) + " (" + ratio(v, value(Bench.DIRECT, key)) + " / " + ratio(v, bestProxy(key, higherIsBetter))
        + ")";
  }

  private static String ratio(double v, Double reference) {
    return reference == null || reference == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f×", v / reference);
  }

  static String integer(Double v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
  }

  static String number(Double v) {
    if (v == null) {
      return "n/a";
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 1000 ? "%.0f" : "%.1f", v);
  }
}
