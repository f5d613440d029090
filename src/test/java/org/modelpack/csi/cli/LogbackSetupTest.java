package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * Every command's logging is set up in code (stderr, logback.xml's line format): warnings and
 * errors for a client, INFO for the driver, unless LOG_LEVEL says otherwise; a process no command
 * marked (the tests), and anyone naming a logback file, get the file. Each case configures a
 * fresh Logback context, as Logback does at a process's first log call.
 */
class LogbackSetupTest {
  /** LOG_LEVEL is not set where the tests run; it would set the level as logback.xml's does. */
  private static final String LOG_LEVEL = System.getenv("LOG_LEVEL");

  @AfterEach
  void clearProperty() {
    System.clearProperty(LogbackSetup.PROPERTY);
  }

  @Test
  void aClientLogsWarningsOnStderrWithoutReadingLogbackXml() {
    LogbackSetup.markClient();

    configuredOnStderrAt(LOG_LEVEL == null ? Level.WARN : Level.toLevel(LOG_LEVEL));
  }

  @Test
  void theDriverLogsInfoOnStderrWithoutReadingLogbackXml() {
    LogbackSetup.markDriver();

    LoggerContext context = configuredOnStderrAt(
        LOG_LEVEL == null ? Level.INFO : Level.toLevel(LOG_LEVEL));
    // Netty's per-connection notices stay out, as logback.xml kept them out.
    assertThat(context.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").getLevel())
        .isEqualTo(Level.ERROR);
  }

  /**
   * A fresh context configured by {@link LogbackSetup}, which must have taken it over with the
   * root at {@code level} writing to stderr.
   */
  private static LoggerContext configuredOnStderrAt(Level level) {
    LoggerContext context = new LoggerContext();

    ExecutionStatus status = new LogbackSetup().configure(context);

    assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(level);
    assertThat(root.getAppender(LogFormat.TEXT_APPENDER)).isInstanceOfSatisfying(
        ConsoleAppender.class, a -> assertThat(a.getTarget()).isEqualTo("System.err"));
    return context;
  }

  @Test
  void aProcessNoCommandMarkedLeavesTheConfigurationToTheFile() {
    LoggerContext context = new LoggerContext();

    ExecutionStatus status = new LogbackSetup().configure(context);

    assertThat(status).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogFormat.TEXT_APPENDER))
        .isNull();
  }

  @Test
  void onlyTheServeCommandCountsAsServe() {
    assertThat(Main.names(new String[] {"serve", "--config", "c.yaml"}, "serve")).isTrue();
    assertThat(Main.names(new String[] {"help", "serve"}, "serve")).isFalse();
    assertThat(Main.names(new String[] {"--help"}, "serve")).isFalse();
    assertThat(Main.names(new String[] {"info", "--config", "serve"}, "serve")).isFalse();
  }
}
