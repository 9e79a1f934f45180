package dev.armor.faults;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/** The suite's results: one row per injection, a table per fault kind. */
public final class FaultReport {

  /**
   * One injected fault and what it cost.
   *
   * @param detectionMillis fault to Armor's detection (the event in the FTM's log), -1 if never detected (or, for a
   *     fault that must go unnoticed, not detected, as it should be)
   * @param recoveryMillis fault to the clients' first byte after it (the slower client), -1 if they never got one
   * @param errors errors and EOFs the clients saw
   * @param lostBytes bytes of the clients' streams that never came back
   * @param duplicatedBytes bytes that came back twice
   * @param falseDetections hangs or node losses Armor reported for something the fault did not touch
   * @param problem what went wrong beyond the figures (an orphan process, a disturbed server), empty if nothing
   * @param note what was observed and is not wrong in itself
   */
  public record Injection(Fault fault, int round, long atMillis, long detectionMillis, long recoveryMillis, long errors,
      long lostBytes, long duplicatedBytes, long falseDetections, String problem, String note) {

    /** Recovered with nothing visible to the clients, and nothing else wrong. */
    public boolean clean() {
      return (detectionMillis >= 0 || !fault.expectsDetection()) && recoveryMillis >= 0 && errors == 0 && lostBytes == 0 && duplicatedBytes == 0
          && falseDetections == 0 && problem.isEmpty();
    }
  }

  private final List<Injection> injections = new ArrayList<>();
  private final String placement;

  FaultReport(String placement) {
    this.placement = placement;
  }

  synchronized void add(Injection injection) {
    injections.add(injection);
  }

  public synchronized List<Injection> injections() {
    return List.copyOf(injections);
  }

  private Map<Fault, List<Injection>> byFault() {
    Map<Fault, List<Injection>> rows = new EnumMap<>(Fault.class);
    for (Injection injection : injections()) {
      rows.computeIfAbsent(injection.fault(), f -> new ArrayList<>()).add(injection);
    }
    return rows;
  }

  public String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("Placement: ").append(placement).append("\n\n");
    out.append("| fault | injected | detection p50 / p99 / max (ms) | recovery p50 / p99 / max (ms) | client errors | bytes lost | bytes duplicated | false detections |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    byFault().forEach((fault, rows) -> out.append("| ").append(fault.label())
        .append(" | ").append(rows.size())
        .append(" | ").append(fault.expectsDetection() ? summary(rows.stream().mapToLong(Injection::detectionMillis).toArray())
            : "none expected" + falseOnes(rows))
        .append(" | ").append(summary(rows.stream().mapToLong(Injection::recoveryMillis).toArray()))
        .append(" | ").append(rows.stream().mapToLong(Injection::errors).sum())
        .append(" | ").append(rows.stream().mapToLong(Injection::lostBytes).sum())
        .append(" | ").append(rows.stream().mapToLong(Injection::duplicatedBytes).sum())
        .append(" | ").append(rows.stream().mapToLong(Injection::falseDetections).sum())
        .append(" |\n"));
    out.append("\nDetection: fault to Armor's event for it (process exit, missed heartbeats, node down, new FTM). "
        + "Recovery: fault to the clients' first byte after it (for ftm faults, to the control API answering again; "
        + "for client-crash, to the restarted client's first byte). False detections: a hang or a node loss Armor reported for a "
        + "process or node the fault did not touch, since the previous injection.\n");
    List<Injection> noted = injections().stream().filter(i -> !i.note().isEmpty() || !i.problem().isEmpty()).toList();
    if (!noted.isEmpty()) {
      out.append("\nNotes:\n");
      noted.forEach(i -> out.append("- ").append(i.fault().label()).append(" #").append(i.round()).append(": ")
          .append(i.problem().isEmpty() ? "" : "PROBLEM: " + i.problem() + (i.note().isEmpty() ? "" : "; "))
          .append(i.note()).append('\n'));
    }
    return out.toString();
  }

  public String json() {
    StringBuilder out = new StringBuilder("{\n  \"placement\": ").append(quote(placement)).append(",\n  \"injections\": [");
    List<Injection> all = injections();
    for (int i = 0; i < all.size(); i++) {
      Injection r = all.get(i);
      out.append(i == 0 ? "\n" : ",\n").append("    {\"fault\": ").append(quote(r.fault().label()))
          .append(", \"round\": ").append(r.round())
          .append(", \"at_millis\": ").append(r.atMillis())
          .append(", \"detection_ms\": ").append(r.detectionMillis())
          .append(", \"recovery_ms\": ").append(r.recoveryMillis())
          .append(", \"client_errors\": ").append(r.errors())
          .append(", \"bytes_lost\": ").append(r.lostBytes())
          .append(", \"bytes_duplicated\": ").append(r.duplicatedBytes())
          .append(", \"false_detections\": ").append(r.falseDetections())
          .append(", \"problem\": ").append(quote(r.problem()))
          .append(", \"note\": ").append(quote(r.note())).append('}');
    }
    return out.append("\n  ]\n}\n").toString();
  }

  /** For a fault that must go unnoticed: how many times it was noticed all the same, if any. */
  private static String falseOnes(List<Injection> rows) {
    long noticed = rows.stream().filter(r -> r.detectionMillis() >= 0).count();
    return noticed == 0 ? "" : " (detected " + noticed + " times)";
  }

  /** p50 / p99 / max of the measured values; "-" for none, and "never" counted when a value is missing (-1). */
  static String summary(long[] values) {
    long[] measured = java.util.Arrays.stream(values).filter(v -> v >= 0).sorted().toArray();
    long missing = values.length - measured.length;
    if (measured.length == 0) {
      return missing == 0 ? "-" : "never (" + missing + ")";
    }
    long p99 = measured[Math.max(0, (int) Math.ceil(measured.length * 0.99) - 1)];
    String text = median(measured).getAsLong() + " / " + p99 + " / " + measured[measured.length - 1];
    return missing == 0 ? text : text + " (+" + missing + " never)";
  }

  static OptionalLong median(long[] sorted) {
    return sorted.length == 0 ? OptionalLong.empty() : OptionalLong.of(sorted[(sorted.length - 1) / 2]);
  }

  private static String quote(String text) {
    return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
  }
}
