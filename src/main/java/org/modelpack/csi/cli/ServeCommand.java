package org.modelpack.csi.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.modelpack.csi.config.ConfigException;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.server.NodePlugin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Run the CSI node plugin on the csi_endpoint unix socket.",
        "Without --config it starts with defaults: root_dir ./var/model-csi, socket "
            + "./var/model-csi/csi/csi.sock, driver name model.csi.modelpack.org."})
final class ServeCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = "YAML config file")
  Path config;

  @Option(names = "--log-level", paramLabel = "LEVEL",
      description = "trace, debug, info, warn or error (default: info)")
  String logLevel;

  @Override
  public Integer call() throws Exception {
    LogLevel.apply(logLevel);
    DriverConfig cfg;
    try {
      cfg = ConfigLoader.system().load(config);
    } catch (ConfigException e) {
      System.err.println("invalid configuration: " + e.getMessage());
      return 2;
    }
    NodePlugin plugin;
    try {
      plugin = NodePlugin.start(cfg);
    } catch (IOException e) {
      // Another driver on root_dir, a directory that is not the driver's, a socket in use.
      System.err.println("cannot start: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(plugin::close, "shutdown"));
    plugin.awaitTermination();
    return 0;
  }
}
