package org.modelpack.csi.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

/**
 * The values of {@code serve --log-format}: {@code text} ({@link LogbackSetup}'s pattern, the default)
 * or {@code json}, one JSON object per line on stderr for log collectors, written by Logback's
 * own {@link JsonEncoder}: {@code timestamp} (epoch milliseconds), {@code level},
 * {@code threadName}, {@code loggerName}, {@code formattedMessage} and, with an exception,
 * {@code throwable} (docs/decisions/1040-health.md).
 */
enum LogFormat {
  TEXT, JSON;

  /** The appender {@link LogbackSetup} (and logback.xml) writes text lines with. */
  static final String TEXT_APPENDER = "STDERR";

  /** The encoder of {@code json}: started, with the fields listed above. */
  static JsonEncoder jsonEncoder(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    // The message with its arguments filled in; the context, sequence and nanoseconds are noise.
    encoder.setWithFormattedMessage(true);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.setWithContext(false);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.start();
    return encoder;
  }

  void apply() {
    if (this == TEXT) {
      return;
    }
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    JsonEncoder encoder = jsonEncoder(context);
    ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
    json.setContext(context);
    json.setName("JSON");
    json.setTarget("System.err");
    json.setEncoder(encoder);
    json.start();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // Swapped before the driver starts, while no other thread logs yet.
    root.addAppender(json);
    Appender<ILoggingEvent> text = root.getAppender(TEXT_APPENDER);
    if (text != null) {
      root.detachAppender(text);
      text.stop();
    }
  }
}
