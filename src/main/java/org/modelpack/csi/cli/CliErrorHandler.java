package org.modelpack.csi.cli;

import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import org.modelpack.csi.config.ConfigException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one place where a command's failure becomes output: one line on stderr,
 * {@code model-csi-driver <command>: <message>}, and an exit code. Usage errors (a bad, missing
 * or conflicting option, an invalid config file) exit {@value #USAGE}; a failed operation exits
 * {@value #FAILED}. An unexpected exception is one line with its class; its stack trace follows
 * only when the root logger is at debug or finer ({@code LOG_LEVEL=debug}, or
 * {@code serve --log-level debug}).
 */
final class CliErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
  static final int FAILED = 1;
  static final int USAGE = 2;

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    // Some of picocli's messages start with "Error: ", which the prefix already says.
    String message = OneLine.of(e.getMessage()).replaceFirst("^Error: ", "");
    print(command, message + " (see '"
        + command.getCommandSpec().qualifiedName() + " --help')");
    return USAGE;
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
    if (e instanceof CliFailure) {
      print(command, OneLine.of(e.getMessage()));
      return FAILED;
    }
    if (e instanceof ConfigException) {
      print(command, OneLine.of(e.getMessage()));
      return USAGE;
    }
    if (e instanceof StatusRuntimeException s) { // a call not mapped by its command
      print(command, OneLine.of(s.getStatus().getCode() + ": "
          + OneLine.firstLine(s.getStatus().getDescription())));
      return FAILED;
    }
    print(command, "unexpected error: " + OneLine.describe(e));
    if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).isDebugEnabled()) {
      e.printStackTrace(command.getErr());
    }
    return FAILED;
  }

  private static void print(CommandLine command, String message) {
    PrintWriter err = command.getErr();
    err.println(command.getCommandSpec().qualifiedName() + ": " + message);
    err.flush();
  }
}
