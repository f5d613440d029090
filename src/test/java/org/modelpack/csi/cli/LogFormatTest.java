package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.json.Json;

class LogFormatTest {
  private final LoggerContext context = new LoggerContext();
  private final JsonEncoder encoder;

  LogFormatTest() {
    context.setMDCAdapter(new LogbackMDCAdapter());
    encoder = LogFormat.jsonEncoder(context);
  }

  @Test
  void jsonLineHasTimeLevelThreadLoggerAndTheMessageWithItsArguments() throws IOException {
    JsonNode line = encode(new LoggingEvent("fqcn", context.getLogger("org.modelpack.csi.X"),
        Level.WARN, "volume {} failed", null, new Object[] {"csi-1"}));

    assertThat(line.path("timestamp").isIntegralNumber()).isTrue();
    assertThat(line.path("level").asText()).isEqualTo("WARN");
    assertThat(line.path("loggerName").asText()).isEqualTo("org.modelpack.csi.X");
    assertThat(line.path("threadName").asText()).isEqualTo(Thread.currentThread().getName());
    assertThat(line.path("formattedMessage").asText()).isEqualTo("volume csi-1 failed");
    assertThat(line.has("message")).as("the raw template is left out").isFalse();
    assertThat(line.has("arguments")).isFalse();
  }

  @Test
  void jsonLineOfALoggedExceptionCarriesItsClassMessageAndFrames() throws IOException {
    JsonNode line = encode(new LoggingEvent("fqcn", context.getLogger("org.modelpack.csi.X"),
        Level.ERROR, "boom", new IllegalStateException("broken", new IOException("disk")),
        null));

    JsonNode throwable = line.path("throwable");
    assertThat(throwable.path("className").asText())
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(throwable.path("message").asText()).isEqualTo("broken");
    assertThat(throwable.path("stepArray").isArray()).isTrue();
    assertThat(throwable.path("cause").path("message").asText()).isEqualTo("disk");
  }

  private JsonNode encode(LoggingEvent event) throws IOException {
    String text = new String(encoder.encode(event), StandardCharsets.UTF_8);
    assertThat(text).endsWith("\n").doesNotContain("\n\n");
    assertThat(text.strip()).doesNotContain("\n");
    return Json.mapper().readTree(text);
  }
}
