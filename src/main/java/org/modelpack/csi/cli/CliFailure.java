package org.modelpack.csi.cli;

/**
 * An expected failure of a command (the driver refused, the registry is unreachable, a file is
 * missing). Its message is the whole story and is shown as one line; exit code 1.
 */
final class CliFailure extends RuntimeException {
  CliFailure(String message) {
    // No stack trace: it is never shown, and the message says what went wrong.
    super(message, null, false, false);
  }
}
