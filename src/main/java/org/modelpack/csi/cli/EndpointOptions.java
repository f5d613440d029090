package org.modelpack.csi.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Option;

/** How a client command finds the driver's socket: --endpoint, else the config's csi_endpoint. */
final class EndpointOptions {
  /** Deadline of a question the driver answers from memory (info, a volume's progress). */
  static final int QUERY_TIMEOUT_SECONDS = 10;

  @Option(names = "--endpoint", paramLabel = "unix:///PATH",
      converter = OptionConverters.UnixEndpoint.class,
      description = "CSI socket of the driver (default: csi_endpoint of --config, or of the "
          + "default config)")
  Path endpoint;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Driver config file to read csi_endpoint from")
  Path config;

  Path socket() {
    return endpoint != null ? endpoint : ConfigLoader.system().load(config).csiEndpoint();
  }

  /**
   * A client for the driver at {@code socket}. A missing socket is named before dialling: the
   * transport would only say "io exception".
   */
  static CsiClient connect(Path socket) {
    if (!Files.exists(socket)) {
      throw new CliFailure("no driver socket at " + socket
          + " (is `model-csi-driver serve` running?)");
    }
    return new CsiClient(socket);
  }
}
