package org.modelpack.csi.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * @param retryAttempts tries of a registry request (or a transfer) without progress
 * @param retryInitialBackoff wait bound after the first failure; doubles per failure
 * @param retryMaxBackoff longest computed wait between tries
 * @param stallTimeout a transfer with no byte arriving for this long is aborted and resumed
 * @param parallelDownloadThreshold blobs larger than this (bytes) use ranged parallel download;
 *     0 = never
 * @param parallelDownloadConnections ranges fetched at once for such a blob
 * @param mirrors per registry host, endpoints tried in order before the registry itself
 * @param maxExpansionRatio a compressed tar layer may expand to at most this many times its
 *     size while it is extracted; 0 = no ratio bound (docs/decisions/0820)
 */
public record PullConfig(
    Path dockerConfigDir, int concurrency, String proxyUrl, Set<String> plainHttpRegistries,
    int nodeLayerConcurrency, Duration publishWait, Duration orphanTimeout,
    int retryAttempts, Duration retryInitialBackoff, Duration retryMaxBackoff,
    Duration stallTimeout, long parallelDownloadThreshold, int parallelDownloadConnections,
    Map<String, List<Mirror>> mirrors, int maxExpansionRatio) {

  // The defaults of the keys, and of the registry, volume and store settings built from them.
  public static final int DEFAULT_CONCURRENCY = 5;
  /** Unlimited. */
  public static final int DEFAULT_NODE_LAYER_CONCURRENCY = 0;
  /** Below kubelet's two minutes per call, so the answer arrives before kubelet gives up. */
  public static final Duration DEFAULT_PUBLISH_WAIT = Duration.ofSeconds(100);
  public static final Duration DEFAULT_ORPHAN_TIMEOUT = Duration.ofMinutes(10);
  public static final int DEFAULT_RETRY_ATTEMPTS = 6;
  public static final Duration DEFAULT_RETRY_INITIAL_BACKOFF = Duration.ofSeconds(1);
  public static final Duration DEFAULT_RETRY_MAX_BACKOFF = Duration.ofSeconds(30);
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(30);
  public static final long DEFAULT_PARALLEL_DOWNLOAD_THRESHOLD = 256L << 20;
  public static final int DEFAULT_PARALLEL_DOWNLOAD_CONNECTIONS = 4;
  public static final int MAX_PARALLEL_DOWNLOAD_CONNECTIONS = 16;
  public static final int DEFAULT_MAX_EXPANSION_RATIO = 100;

  public PullConfig {
    plainHttpRegistries = Set.copyOf(plainHttpRegistries);
    mirrors = mirrors == null ? Map.of() : Map.copyOf(mirrors);
  }
}
