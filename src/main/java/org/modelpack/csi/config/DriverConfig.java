package org.modelpack.csi.config;

import java.nio.file.Path;

/**
 * The effective configuration. Keys mirror the Go driver's YAML so existing files keep working.
 *
 * @param serviceName CSI driver name and prefix of volume attribute keys
 * @param rootDir where volumes (and later the layer store) live
 * @param csiEndpoint the unix socket kubelet talks to
 * @param nodeId returned by NodeGetInfo
 * @param metricsAddr where the metrics server listens ({@code metrics_addr}); none when unset
 * @param mode which CSI services {@code serve} offers ({@code mode}; default node)
 */
public record DriverConfig(
    String serviceName,
    Path rootDir,
    Path csiEndpoint,
    String nodeId,
    MetricsAddress metricsAddr,
    PullConfig pull,
    CacheConfig cache,
    Features features,
    ServeMode mode) {

  public static final String DEFAULT_SERVICE_NAME = "model.csi.modelpack.org";
  /** Relative to the working directory, so a first try needs no configuration and no root. */
  public static final String DEFAULT_ROOT_DIR = "var/model-csi";
  /** The socket's default path inside {@code root_dir}. */
  public static final String DEFAULT_SOCKET = "csi/csi.sock";
  /** The volumes' directory inside {@code root_dir}. */
  public static final String VOLUMES_DIR = "volumes";

  /** The same config serving {@code other} services (the {@code --mode} flag wins). */
  public DriverConfig withMode(ServeMode other) {
    return new DriverConfig(serviceName, rootDir, csiEndpoint, nodeId, metricsAddr, pull, cache,
        features, other);
  }

  /** Volume attribute key {@code <service_name>/<suffix>}. */
  public String attributeKey(String suffix) {
    return serviceName + "/" + suffix;
  }

  public Path volumesDir() {
    return rootDir.resolve(VOLUMES_DIR);
  }
}
