package org.modelpack.csi.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.DoubleConsumer;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metrics whose value is read when Prometheus scrapes, from counters the driver keeps anyway:
 * nothing is added to the publish path. A reading that throws gives no sample for that metric
 * rather than failing the whole scrape.
 */
final class ReadAtScrape {
  private static final Logger log = LoggerFactory.getLogger(ReadAtScrape.class);

  private final PrometheusRegistry registry;

  ReadAtScrape(PrometheusRegistry registry) {
    this.registry = registry;
  }

  /** A counter: {@code name} must not end in {@code _total}, the exposition adds it. */
  ReadAtScrape counter(String name, String help, DoubleSupplier value) {
    CounterWithCallback.builder().name(name).help(help)
        .callback(cb -> read(name, value, v -> cb.call(v))).register(registry);
    return this;
  }

  ReadAtScrape gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder().name(name).help(help)
        .callback(cb -> read(name, value, v -> cb.call(v))).register(registry);
    return this;
  }

  private static void read(String name, DoubleSupplier value, DoubleConsumer sample) {
    double v;
    try {
      v = value.getAsDouble();
    } catch (RuntimeException e) {
      log.debug("cannot read {} for a scrape: {}", name, e.toString());
      return;
    }
    sample.accept(v);
  }
}
