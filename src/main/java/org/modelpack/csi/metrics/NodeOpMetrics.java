package org.modelpack.csi.metrics;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.modelpack.csi.store.StoreStats;
import org.modelpack.csi.volume.NodeOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Go driver's node operation metrics: {@code model_csi_node_op_succeed} and {@code _failed}
 * by {@code op}, and {@code model_csi_node_op_latency_in_seconds} observed on success only (as
 * the Go driver does, so its dashboards read the same), in its buckets 1 s … 32768 s. Layer
 * downloads are op {@code pull_layer}, timed in {@code model_csi_node_pull_op_latency_in_seconds}
 * by {@link SizeLabel size bucket}.
 */
final class NodeOpMetrics implements NodeOps, StoreStats.DownloadListener {
  static final String PULL_LAYER = "pull_layer";
  private static final Logger log = LoggerFactory.getLogger(NodeOpMetrics.class);
  private static final double NANOS_PER_SECOND = 1e9;

  private final OpCounter succeeded = new OpCounter("model_csi_node_op_succeed",
      "Node operations that succeeded, by op.");
  private final OpCounter failed = new OpCounter("model_csi_node_op_failed",
      "Node operations that failed, by op.");
  private final Histogram latency;
  private final Histogram layerLatency;

  NodeOpMetrics(PrometheusRegistry registry) {
    registry.register(succeeded);
    registry.register(failed);
    latency = Histogram.builder().name("model_csi_node_op_latency_in_seconds")
        .help("Time taken by node operations that succeeded, by op.")
        .labelNames("op").classicOnly().classicExponentialUpperBounds(1, 2, 16)
        .register(registry);
    layerLatency = Histogram.builder().name("model_csi_node_pull_op_latency_in_seconds")
        .help("Time taken by layer downloads that succeeded, by op and size bucket.")
        .labelNames("op", "size_in_mb").classicOnly().classicExponentialUpperBounds(1, 2, 16)
        .register(registry);
  }

  /** Never throws: a metric that cannot be recorded must not fail the operation. */
  @Override
  public void record(String op, Outcome outcome, long nanos) {
    try {
      switch (outcome) {
        case SUCCEEDED -> {
          succeeded.inc(op);
          latency.labelValues(op).observe(nanos / NANOS_PER_SECOND);
        }
        case FAILED -> failed.inc(op);
        case PENDING -> { } // neither yet: kubelet's retry ends it
      }
    } catch (RuntimeException | LinkageError e) {
      log.debug("cannot record {} {}: {}", op, outcome, e.toString());
    }
  }

  /** Never throws, like {@link #record}. */
  @Override
  public void downloadEnded(long bytes, long nanos, boolean ok) {
    try {
      if (ok) {
        succeeded.inc(PULL_LAYER);
        layerLatency.labelValues(PULL_LAYER, SizeLabel.of(bytes)).observe(nanos / NANOS_PER_SECOND);
      } else {
        failed.inc(PULL_LAYER);
      }
    } catch (RuntimeException | LinkageError e) {
      log.debug("cannot record a layer download: {}", e.toString());
    }
  }
}
