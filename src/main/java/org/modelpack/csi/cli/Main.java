package org.modelpack.csi.cli;

import org.modelpack.csi.server.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code java -jar model-csi-driver.jar <command>}. */
@Command(name = "model-csi-driver",
    description = "CSI driver that serves ModelPack model artifacts from OCI registries as "
        + "read-only volumes.",
    footer = {"", "Errors are one line on stderr; exit 1 when an operation failed, 2 for a bad "
        + "option or config file. LOG_LEVEL=debug adds the stack trace of an unexpected error."},
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    subcommands = {ServeCommand.class, PublishCommand.class, UnpublishCommand.class,
        InfoCommand.class, StoreCommand.class, PushCommand.class, MountCommand.class,
        UmountCommand.class, ListCommand.class, InspectCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Decided from the raw arguments: building the command line below already initialises
    // logging (the commands' loggers); LogbackSetup configures it without logback.xml.
    if (names(args, "serve")) {
      LogbackSetup.markDriver();
    } else {
      LogbackSetup.markClient();
    }
    quietNettyJfrEvents();
    unpooledNettyBuffers();
    CommandLine cli = commandLine();
    CommandLine.IExecutionStrategy run = cli.getExecutionStrategy();
    cli.setExecutionStrategy(parsed -> {
      if (!isServe(parsed)) {
        LogLevel.quietForClientCommands();
      }
      return run.execute(parsed);
    });
    System.exit(cli.execute(args));
  }

  /**
   * Netty (shaded in grpc-netty-shaded) registers Flight Recorder events for its buffer
   * allocations on first use unless told not to: some 100 JFR classes and generated event
   * handlers, ~150 ms of every CLI command that connects and of the driver's first call, for
   * events nobody here records. A value given on the command line wins.
   */
  static void quietNettyJfrEvents() {
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
  }

  /** The property as shading relocated it (Netty's own name is io.netty.jfr.enabled). */
  static final String NETTY_JFR = "io.grpc.netty.shaded.io.netty.jfr.enabled";

  /**
   * gRPC's Netty pools its buffers by default: per-core arenas of multi-MiB chunks, kept for
   * the process's life, sized for servers that move megabytes. Here gRPC carries a few small
   * messages per volume (the model bytes go over HTTP to files), and the pool cost the driver
   * about 12 MiB of resident memory (docs/decisions/1230-driver-memory.md). A value given on
   * the command line wins.
   */
  static void unpooledNettyBuffers() {
    if (System.getProperty(NETTY_ALLOCATOR) == null) {
      System.setProperty(NETTY_ALLOCATOR, "unpooled");
    }
  }

  /** Netty's io.netty.allocator.type, as shading relocated it. */
  static final String NETTY_ALLOCATOR = "io.grpc.netty.shaded.io.netty.allocator.type";

  /** The command line with the one error handler every command shares. */
  static CommandLine commandLine() {
    CliErrorHandler errors = new CliErrorHandler();
    return new CommandLine(new Main())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(errors)
        .setExecutionExceptionHandler(errors);
  }

  /** Whether the first argument that is not an option is {@code command}. */
  static boolean names(String[] args, String command) {
    for (String a : args) {
      if (!a.startsWith("-")) {
        return a.equals(command);
      }
    }
    return false;
  }

  private static boolean isServe(CommandLine.ParseResult parsed) {
    return parsed.hasSubcommand()
        && parsed.subcommand().commandSpec().userObject() instanceof ServeCommand;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"model-csi-driver " + Version.get()};
    }
  }
}
