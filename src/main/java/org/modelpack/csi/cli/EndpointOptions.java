package org.modelpack.csi.cli;

import java.nio.file.Path;
import org.modelpack.csi.config.ConfigLoader;
import picocli.CommandLine.Option;

/** How a client command finds the driver's socket: --endpoint, else the config's csi_endpoint. */
final class EndpointOptions {
  @Option(names = "--endpoint", paramLabel = "unix:///PATH",
      description = "CSI socket of the driver (default: csi_endpoint of --config, or of the "
          + "default config)")
  String endpoint;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Driver config file to read csi_endpoint from")
  Path config;

  Path socket() {
    if (endpoint != null) {
      if (!endpoint.startsWith("unix://")) {
        throw new IllegalArgumentException("--endpoint must look like unix:///path/csi.sock");
      }
      return Path.of(endpoint.substring("unix://".length()));
    }
    return ConfigLoader.system().load(config).csiEndpoint();
  }
}
