package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PlayedReportsTest {

    private final PlayedReports reports = new PlayedReports();

    private void feed(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        reports.feed(b, 0, b.length);
    }

    @Test
    void noReportYet_beforeAValidLine() {
        feed("HELLO\n");
        assertThat(reports.any()).isFalse();
        assertThat(reports.played()).isEqualTo(-1);
        feed("PLAYED 12"); // no end of line yet
        assertThat(reports.any()).isFalse();
        feed("34\n");
        assertThat(reports.played()).isEqualTo(1234);
        assertThat(reports.reports()).isEqualTo(1);
    }

    @Test
    void manyLinesInOneRead_keepTheHighest_andCrLfIsFine() {
        feed("HELLO\r\nPLAYED 0\nPLAYED 8000\r\nPLAYED 16000\nPLAYED 9000\n");
        assertThat(reports.played()).isEqualTo(16_000);
        assertThat(reports.reports()).isEqualTo(4);
    }

    @Test
    void malformedAndUnknownLines_areIgnored() {
        feed("PLAYED 100\n");
        feed("PLAYED\nPLAYED \nPLAYED x\nPLAYED -5\nPLAYED 5 6\nplayed 500\n PLAYED 500\nPLAYED  500\n"
                + "PLAYED 9999999999999999999999\nPLAYED 1e9\nSTOP 7\n\n\r\n");
        assertThat(reports.played()).isEqualTo(100);
        assertThat(reports.reports()).isEqualTo(1);
    }

    @Test
    void overlongLines_areSkippedUpToTheirEnd() {
        feed("PLAYED 1" + "0".repeat(PlayedReports.MAX_LINE) + "\nPLAYED 42\n");
        assertThat(reports.played()).isEqualTo(42);
        feed("x".repeat(10_000));
        feed("PLAYED 99\nPLAYED 77\n"); // the first line is the end of the long one
        assertThat(reports.played()).isEqualTo(77);
    }

    @Test
    void bytesSplitAnywhere_parseTheSame() {
        byte[] all = "HELLO\nPLAYED 400\nPLAYED 800\n".getBytes(StandardCharsets.US_ASCII);
        for (byte b : all) {
            reports.feed(new byte[] {0, b, 0}, 1, 1);
        }
        assertThat(reports.played()).isEqualTo(800);
        assertThat(reports.reports()).isEqualTo(2);
    }
}
