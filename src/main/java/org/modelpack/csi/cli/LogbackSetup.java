package org.modelpack.csi.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Logback's configuration, set up in code instead of from logback.xml, for every command
 * {@link Main} runs. Parsing logback.xml (Joran, the JDK's XML parser and some 600 classes) took
 * about half a second of every CLI command (docs/decisions/1201-cli-class-data-sharing.md) and
 * about 8 MiB of the driver's resident memory, which stays for the process's life
 * (docs/decisions/1230-driver-memory.md).
 *
 * <p>The result is what logback.xml gave: the same line format on stderr, Netty's and Jetty's
 * notices held back, the root at {@code LOG_LEVEL} if set, else INFO for the driver and WARN for
 * a client (whose own output is its result). Logback finds this class through META-INF/services;
 * it steps aside (logback.xml, or logback-test.xml in the tests, apply) when no command marked
 * the process, and whenever {@code -Dlogback.configurationFile} names a file.
 */
public final class LogbackSetup extends ContextAwareBase implements Configurator {
  /** Set by {@link Main} before anything logs: {@link #CLIENT} or {@link #DRIVER}. */
  static final String PROPERTY = "model-csi.logging";
  static final String CLIENT = "client";
  static final String DRIVER = "driver";
  /** logback.xml's pattern: a client's warning reads like the driver's. */
  private static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} - %msg%n";

  static void markClient() {
    System.setProperty(PROPERTY, CLIENT);
  }

  static void markDriver() {
    System.setProperty(PROPERTY, DRIVER);
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    String role = System.getProperty(PROPERTY);
    if (!(CLIENT.equals(role) || DRIVER.equals(role))
        || System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName(LogFormat.TEXT_APPENDER);
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(stderr);
    root.setLevel(Level.toLevel(requestedLevel(), CLIENT.equals(role) ? Level.WARN : Level.INFO));
    // As logback.xml: Netty's per-connection notices stay out even at LOG_LEVEL=debug.
    context.getLogger("io.grpc.netty").setLevel(Level.WARN);
    context.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").setLevel(Level.ERROR);
    context.getLogger("jdk.internal.httpclient").setLevel(Level.WARN);
    // The dynamic-volume API server: its start/stop of each connector is ours to log.
    context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** LOG_LEVEL as logback.xml reads it: a system property, else the environment. */
  private static String requestedLevel() {
    String level = System.getProperty("LOG_LEVEL");
    return level != null ? level : System.getenv("LOG_LEVEL");
  }
}
