package org.modelpack.csi.metrics;

import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The JVM metrics a node agent's operator reads: memory (heap against its limit), GC, threads,
 * direct buffers (Netty's), the process (CPU, resident memory, open files) and the runtime's
 * version. Not registered: class loading, JIT compilation, allocation per pool (a listener on
 * every GC) and native memory tracking (off unless the JVM is started with it): each costs
 * something at every scrape of an idle driver and answers no question about a CSI node.
 */
final class JvmCollectors {
  private JvmCollectors() {}

  static void register(PrometheusRegistry registry) {
    JvmMemoryMetrics.builder().register(registry);
    JvmGarbageCollectorMetrics.builder().register(registry);
    JvmThreadsMetrics.builder().register(registry);
    JvmBufferPoolMetrics.builder().register(registry);
    ProcessMetrics.builder().register(registry);
    JvmRuntimeInfoMetric.builder().register(registry);
  }
}
