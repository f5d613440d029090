package org.modelpack.csi.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.server.NodePlugin;

/** A node plugin started in this JVM, serving its CSI socket under its root, with a client. */
public final class TestNode implements AutoCloseable {
  public final Path root;
  public final NodePlugin plugin;
  public final CsiClient csi;
  private boolean closed;

  private TestNode(Path root, NodePlugin plugin) {
    this.root = root;
    this.plugin = plugin;
    this.csi = new CsiClient(plugin.config().csiEndpoint());
  }

  /**
   * Starts node {@code test-node} with {@code root_dir} {@code root} and its socket there;
   * {@code moreYaml} follows as further top-level configuration. Relative paths resolve
   * against {@code workDir}.
   */
  public static TestNode start(Path root, Path workDir, String moreYaml) throws IOException {
    return new TestNode(root, NodePlugin.start(new ConfigLoader(Map.of(), () -> "test-node",
        workDir).parse("root_dir: %s\ncsi_endpoint: unix://%s/csi.sock\n%s"
            .formatted(root, root, moreYaml))));
  }

  /**
   * As {@link #start}, pulling anonymously (no docker config) and with the disk watermarks off,
   * so the test machine's disk usage never evicts: {@code cacheLines} go under {@code cache:},
   * {@code moreYaml} follows at the top level.
   */
  public static TestNode startAnonymousWithoutWatermarks(Path root, Path workDir,
      String cacheLines, String moreYaml) throws IOException {
    return start(root, workDir, """
        pull_config:
          docker_config_dir: %s
        cache:
          high_watermark: 100
          low_watermark: 100
          %s
        %s
        """.formatted(workDir.resolve("no-docker-config"), cacheLines, moreYaml));
  }

  /** Closes the client, then the plugin; a second call does nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      csi.close();
      plugin.close();
    }
  }
}
