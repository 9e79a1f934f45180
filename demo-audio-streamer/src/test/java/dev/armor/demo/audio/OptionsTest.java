package dev.armor.demo.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void server_defaults() {
        ServerOptions o = ServerOptions.parse("--port", "7000");
        assertThat(o).isEqualTo(new ServerOptions(null, 7000, 8000, 50));
        assertThat(o.chunkBytes()).isEqualTo(400);
        assertThat(o.chunkNanos()).isEqualTo(50_000_000L);
    }

    @Test
    void server_oddRate_keepsExactPacing() {
        ServerOptions o = ServerOptions.parse("--port=0", "--rate", "11025", "--host", "127.0.0.1");
        assertThat(o.chunkBytes()).isEqualTo(551);
        assertThat(o.chunkNanos()).isEqualTo(551L * 1_000_000_000L / 11025);
        assertThat(o.host()).isEqualTo("127.0.0.1");
    }

    @Test
    void server_lead() {
        assertThat(ServerOptions.parse("--port", "7000").leadMillis()).isEqualTo(1000);
        assertThat(ServerOptions.parse("--port", "7000").leadBytes()).isEqualTo(8000);
        ServerOptions o = ServerOptions.parse("--port", "7000", "--lead-ms", "2500", "--rate", "16000");
        assertThat(o).isEqualTo(new ServerOptions(null, 7000, 16000, 50, 2500));
        assertThat(o.leadBytes()).isEqualTo(40_000);
        assertThatThrownBy(() -> ServerOptions.parse("--port", "1", "--lead-ms", "0"))
                .hasMessage("--lead-ms must be an integer in 1..3600000, but was '0'");
    }

    @Test
    void client_reportInterval() {
        assertThat(ClientOptions.parse("--port", "9").reportMillis()).isEqualTo(100);
        assertThat(ClientOptions.parse("--port", "9", "--report-ms", "0").reportMillis()).isZero();
        assertThat(ClientOptions.parse("--port", "9", "--report-ms=250").reportMillis()).isEqualTo(250);
        assertThatThrownBy(() -> ClientOptions.parse("--port", "9", "--report-ms", "-1"))
                .hasMessage("--report-ms must be an integer in 0..3600000, but was '-1'");
    }

    @Test
    void badValues_nameTheOptionTheRuleAndTheValue() {
        assertThatThrownBy(() -> ServerOptions.parse("--port", "seventy"))
                .hasMessage("--port must be an integer in 0..65535, but was 'seventy'");
        assertThatThrownBy(() -> ServerOptions.parse()).hasMessage("--port is required");
        assertThatThrownBy(() -> ServerOptions.parse("--port", "1", "--colour", "red"))
                .hasMessage("unknown option --colour");
        assertThatThrownBy(() -> ClientOptions.parse("--port", "1", "--seconds", "-3"))
                .hasMessage("--seconds must be a positive number, but was '-3'");
        assertThatThrownBy(() -> ClientOptions.parse("--port")).hasMessage("--port needs a value");
        assertThatThrownBy(() -> ClientOptions.parse("--port", "1", "--events=yes"))
                .hasMessage("--events takes no value, but was given 'yes'");
    }

    @Test
    void client_flags() {
        ClientOptions o = ClientOptions.parse("--host", "h", "--port", "9", "--seconds", "1.5", "--out", "x.wav",
                "--events", "--gap-ms", "100", "--nio-nonblocking", "--verify");
        assertThat(o.host()).isEqualTo("h");
        assertThat(o.durationNanos()).isEqualTo(1_500_000_000L);
        assertThat(o.out()).isEqualTo(Path.of("x.wav"));
        assertThat(o.events()).isTrue();
        assertThat(o.gapMillis()).isEqualTo(100);
        assertThat(o.transport()).isEqualTo(ClientOptions.Transport.NIO_NONBLOCKING);
        assertThat(o.verify()).isTrue();
        assertThat(ClientOptions.parse("--port", "9", "--nio").transport())
                .isEqualTo(ClientOptions.Transport.NIO_BLOCKING);
        assertThat(ClientOptions.parse("--port", "9")).isEqualTo(ClientOptions.of("127.0.0.1", 9));
    }
}
