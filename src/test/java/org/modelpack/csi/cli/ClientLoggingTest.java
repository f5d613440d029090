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
 * A client command's logging is set up in code (warnings and errors on stderr, logback.xml's
 * line format); serve, and anyone naming a logback file, still get logback.xml. Each case
 * configures a fresh Logback context, as Logback does at a process's first log call.
 */
class ClientLoggingTest {

  @AfterEach
  void clearProperty() {
    System.clearProperty(ClientLogging.PROPERTY);
  }

  @Test
  void aClientLogsWarningsOnStderrWithoutReadingLogbackXml() {
    ClientLogging.markClient();
    LoggerContext context = new LoggerContext();

    ExecutionStatus status = new ClientLogging().configure(context);

    assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    // LOG_LEVEL is not set where the tests run; it would raise the level as logback.xml's does.
    assertThat(root.getLevel()).isEqualTo(
        System.getenv("LOG_LEVEL") == null ? Level.WARN : Level.toLevel(System.getenv("LOG_LEVEL")));
    assertThat(root.getAppender(LogFormat.TEXT_APPENDER)).isInstanceOfSatisfying(
        ConsoleAppender.class, a -> assertThat(a.getTarget()).isEqualTo("System.err"));
  }

  @Test
  void serveLeavesTheConfigurationToLogbackXml() {
    LoggerContext context = new LoggerContext();

    ExecutionStatus status = new ClientLogging().configure(context);

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
