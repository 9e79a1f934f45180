package dev.armor.faults;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FaultReportTest {

  @Test
  void table_hasOneRowPerFaultWithMedianP99AndMax() {
    FaultReport report = new FaultReport("unpinned");
    report.add(new FaultReport.Injection(Fault.SERVER_CRASH, 1, 0, 40, 700, 0, 0, 0, 0, "", ""));
    report.add(new FaultReport.Injection(Fault.SERVER_CRASH, 2, 0, 20, 500, 0, 0, 0, 0, "", ""));
    report.add(new FaultReport.Injection(Fault.SERVER_CRASH, 3, 0, 30, 900, 1, 16, 0, 0, "", ""));
    report.add(new FaultReport.Injection(Fault.NODE_CRASH, 1, 0, -1, -1, 0, 0, 0, 0, "2 process(es) outlived", ""));

    String table = report.markdown();

    assertThat(table).contains("| server-crash | 3 | 30 / 40 / 40 | 700 / 900 / 900 | 1 | 16 | 0 | 0 |");
    assertThat(table).contains("| node-crash | 1 | never (1) | never (1) | 0 | 0 | 0 | 0 |");
    assertThat(table).contains("node-crash #1: PROBLEM: 2 process(es) outlived");
    assertThat(report.injections()).filteredOn(FaultReport.Injection::clean).hasSize(2);
  }

  @Test
  void aFaultThatMustGoUnnoticed_isCleanUndetected_andSaysSoInTheTable() {
    FaultReport report = new FaultReport("unpinned");
    report.add(new FaultReport.Injection(Fault.LINK_FLAP, 1, 0, -1, 350, 0, 0, 0, 0, "", ""));
    report.add(new FaultReport.Injection(Fault.LINK_FLAP, 2, 0, -1, 0, 0, 0, 0, 1, "", "false detection: NODE_DOWN"));

    assertThat(report.markdown()).contains("| link-flap | 2 | none expected | 0 / 350 / 350 | 0 | 0 | 0 | 1 |");
    assertThat(report.injections()).filteredOn(FaultReport.Injection::clean).hasSize(1);
  }

  @Test
  void json_quotesNotes() {
    FaultReport report = new FaultReport("a \"quoted\" placement");
    report.add(new FaultReport.Injection(Fault.FTM_CRASH, 1, 5, 10, 10, 0, 0, 0, 0, "", "line\nbreak"));

    assertThat(report.json()).contains("\"placement\": \"a \\\"quoted\\\" placement\"")
        .contains("\"fault\": \"ftm-crash\", \"round\": 1, \"at_millis\": 5, \"detection_ms\": 10")
        .contains("\"note\": \"line\\nbreak\"");
  }

  @Test
  void faults_parseByLabel() {
    assertThat(Fault.parse("all")).containsExactly(Fault.values());
    assertThat(Fault.parse("node-hang, server-crash")).containsExactly(Fault.NODE_HANG, Fault.SERVER_CRASH);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Fault.parse("disk-full"))
        .hasMessageContaining("unknown fault 'disk-full'").hasMessageContaining("node-crash");
  }
}
