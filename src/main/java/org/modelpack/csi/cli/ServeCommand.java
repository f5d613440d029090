package org.modelpack.csi.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.config.ServeMode;
import org.modelpack.csi.server.ControllerPlugin;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.server.Plugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Run the CSI driver on the csi_endpoint unix socket: the node plugin (the "
        + "default), the controller, or both (--mode).",
        "Without --config it starts with defaults: root_dir ./" + DriverConfig.DEFAULT_ROOT_DIR
            + ", socket ./" + DriverConfig.DEFAULT_ROOT_DIR + "/" + DriverConfig.DEFAULT_SOCKET
            + ", driver name " + DriverConfig.DEFAULT_SERVICE_NAME + ".",
        "Stops on SIGTERM or SIGINT (Ctrl-C): the socket is removed, running pulls are "
            + "cancelled, mounts are left for kubelet."})
final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Option(names = "--config", paramLabel = "FILE", description = "YAML config file")
  Path config;

  @Option(names = "--mode", paramLabel = "MODE", converter = ModeConverter.class,
      description = {"node (default): Identity + Node, pulls and mounts under root_dir (the "
          + "DaemonSet); controller: Identity + Controller only, for PVCs next to "
          + "csi-provisioner, no root_dir, store or mounts; all: both on one socket (tests, "
          + "csi-sanity).", "Overrides the config key mode."})
  ServeMode mode;

  @Option(names = "--log-level", paramLabel = "LEVEL",
      description = "trace, debug, info, warn or error (default: info, or $LOG_LEVEL)")
  LogLevel logLevel;

  @Option(names = "--log-format", paramLabel = "FORMAT",
      description = "text (default) or json: one JSON object per line for log collectors")
  LogFormat logFormat;

  @Override
  public Integer call() throws Exception {
    if (logFormat != null) {
      logFormat.apply();
    }
    if (logLevel != null) {
      logLevel.apply();
    }
    DriverConfig loaded = ConfigLoader.system().load(config);
    DriverConfig cfg = mode == null ? loaded : loaded.withMode(mode);
    Plugin plugin;
    try {
      plugin = cfg.mode() == ServeMode.CONTROLLER ? ControllerPlugin.start(cfg)
          : NodePlugin.start(cfg);
    } catch (IOException e) {
      throw new CliFailure("cannot start: " + OneLine.describe(e));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Otherwise a stop is silent, and a log that ends looks like a driver that hangs.
      log.info("stopping: closing the socket{}",
          cfg.mode() == ServeMode.CONTROLLER ? "" : " and cancelling running pulls");
      plugin.close();
      log.info("stopped");
    }, "shutdown"));
    plugin.awaitTermination();
    return 0;
  }

  /** picocli's enum conversion is case-sensitive; the modes are written in lower case. */
  static final class ModeConverter implements CommandLine.ITypeConverter<ServeMode> {
    @Override
    public ServeMode convert(String value) {
      try {
        return ServeMode.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
