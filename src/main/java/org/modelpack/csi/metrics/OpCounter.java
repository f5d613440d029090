package org.modelpack.csi.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot.UnknownDataPointSnapshot;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A count per {@code op} exposed under exactly the Go driver's name. client_java 1.x writes
 * every counter as {@code <name>_total}, while the Go driver's counters have no suffix
 * ({@code model_csi_node_op_succeed}); dashboards query that name, so this one is exposed
 * untyped, which keeps the name and still works with {@code rate()}.
 */
final class OpCounter implements Collector {
  private final String name;
  private final String help;
  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

  OpCounter(String name, String help) {
    this.name = name;
    this.help = help;
  }

  void inc(String op) {
    counts.computeIfAbsent(op, k -> new LongAdder()).increment();
  }

  @Override
  public MetricSnapshot collect() {
    UnknownSnapshot.Builder snapshot = UnknownSnapshot.builder().name(name).help(help);
    counts.forEach((op, count) -> snapshot.dataPoint(UnknownDataPointSnapshot.builder()
        .labels(Labels.of("op", op)).value(count.sum()).build()));
    return snapshot.build();
  }

  @Override
  public String getPrometheusName() {
    return name;
  }
}
