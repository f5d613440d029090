package org.modelpack.csi.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * The values of {@code --log-level} (case-insensitive; picocli refuses any other as a usage
 * error, where the Go driver declared the flag and never applied it).
 */
enum LogLevel {
  TRACE, DEBUG, INFO, WARN, ERROR;

  void apply() {
    root().setLevel(Level.toLevel(name()));
  }

  /**
   * Client commands print their own results and errors; the driver's info lines (a registry
   * retry, a plain-HTTP notice) would only get in between. Unless {@code LOG_LEVEL} asks for
   * more (the variable logback.xml reads), they log warnings and errors only.
   */
  static void quietForClientCommands() {
    if (System.getProperty("LOG_LEVEL") == null && System.getenv("LOG_LEVEL") == null) {
      root().setLevel(Level.WARN);
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
