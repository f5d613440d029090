package org.modelpack.csi.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Registry pull settings ({@code pull_config.*}).
 *
 * @param dockerConfigDir directory holding {@code config.json} with registry credentials
 * @param concurrency layers pulled in parallel for one model
 * @param proxyUrl optional HTTP proxy for registry traffic
 * @param plainHttpRegistries registry hosts reached over plain HTTP (loopback always is)
 * @param nodeLayerConcurrency layers downloading at once across all pulls; 0 = unlimited
 * @param publishWait how long a publish waits for its pull before answering ABORTED
 * @param orphanTimeout a background pull nobody asks about for this long is removed
 */
public record PullConfig(
    Path dockerConfigDir, int concurrency, String proxyUrl, Set<String> plainHttpRegistries,
    int nodeLayerConcurrency, Duration publishWait, Duration orphanTimeout) {

  public static final int DEFAULT_CONCURRENCY = 5;

  public PullConfig {
    plainHttpRegistries = Set.copyOf(plainHttpRegistries);
  }
}
