package org.modelpack.csi.metrics;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.modelpack.csi.volume.NodeOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Go driver's node operation metrics: {@code model_csi_node_op_succeed} and {@code _failed}
 * by {@code op}, and {@code model_csi_node_op_latency_in_seconds} observed on success only (as
 * the Go driver does, so its dashboards read the same), in its buckets 1 s … 32768 s.
 */
final class NodeOpMetrics implements NodeOps {
  private static final Logger log = LoggerFactory.getLogger(NodeOpMetrics.class);
  private static final double NANOS_PER_SECOND = 1e9;

  private final OpCounter succeeded = new OpCounter("model_csi_node_op_succeed",
      "Node operations that succeeded, by op.");
  private final OpCounter failed = new OpCounter("model_csi_node_op_failed",
      "Node operations that failed, by op.");
  private final Histogram latency;

  NodeOpMetrics(PrometheusRegistry registry) {
    registry.register(succeeded);
    registry.register(failed);
    latency = Histogram.builder().name("model_csi_node_op_latency_in_seconds")
        .help("Time taken by node operations that succeeded, by op.")
        .labelNames("op").classicOnly().classicExponentialUpperBounds(1, 2, 16)
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
}
