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
 * Logback's configuration for the client commands, set up in code instead of from logback.xml.
 * Parsing logback.xml (Joran, the JDK's XML parser and some 600 classes) took about half a
 * second of every CLI command, more than anything the command itself does
 * (docs/decisions/1201-cli-class-data-sharing.md). {@code serve} still reads logback.xml: this
 * configurator steps aside unless {@link Main} marked the process as a client, and whenever
 * {@code -Dlogback.configurationFile} names a file.
 *
 * <p>The result is what logback.xml plus {@link LogLevel#quietForClientCommands} gave a client:
 * the same line format on stderr, warnings and errors only unless {@code LOG_LEVEL} asks for
 * more. Found by Logback through META-INF/services.
 */
public final class ClientLogging extends ContextAwareBase implements Configurator {
  /** The system property {@link Main} sets before anything logs; its value {@link #CLIENT}. */
  static final String PROPERTY = "model-csi.logging";
  static final String CLIENT = "client";
  /** logback.xml's pattern: a client's warning reads like the driver's. */
  private static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} - %msg%n";

  static void markClient() {
    System.setProperty(PROPERTY, CLIENT);
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (!CLIENT.equals(System.getProperty(PROPERTY))
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
    root.setLevel(Level.toLevel(requestedLevel(), Level.WARN));
    // As logback.xml: Netty's per-connection notices stay out even at LOG_LEVEL=debug.
    context.getLogger("io.grpc.netty").setLevel(Level.WARN);
    context.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").setLevel(Level.ERROR);
    context.getLogger("jdk.internal.httpclient").setLevel(Level.WARN);
    context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** LOG_LEVEL as logback.xml reads it: a system property, else the environment. */
  private static String requestedLevel() {
    String level = System.getProperty("LOG_LEVEL");
    return level != null ? level : System.getenv("LOG_LEVEL");
  }
}
