package org.modelpack.csi.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.BiFunction;
import org.modelpack.csi.registry.RegistryStats;
import org.modelpack.csi.registry.RetryCause;

/**
 * The registry client's retries and resumes by cause ({@code model_csi_registry_*}), read from
 * {@link RegistryStats} at scrape time. Every cause has a sample from the start (0 until it
 * happens), so a rate over it is defined before the first failure.
 */
final class RegistryMetrics {
  static final String PREFIX = "model_csi_registry_";

  private RegistryMetrics() {}

  static void register(PrometheusRegistry registry, RegistryStats stats) {
    byCause(registry, PREFIX + "retries",
        "Registry requests sent again after a failure, by cause (http_5xx, http_429, connect, "
            + "timeout, reset, stall, closed_early, bad_range).", stats, RegistryStats::retries);
    byCause(registry, PREFIX + "resumes",
        "Blob transfers that went on from the bytes they had (a Range request answered with "
            + "206) after breaking, by the cause of the break; restart: a download begun again "
            + "that went on from the bytes an earlier one kept on disk.", stats,
        RegistryStats::resumes);
  }

  private static void byCause(PrometheusRegistry registry, String name, String help,
      RegistryStats stats, BiFunction<RegistryStats, RetryCause, Long> count) {
    CounterWithCallback.builder().name(name).help(help).labelNames("cause")
        .callback(cb -> {
          for (RetryCause cause : RetryCause.values()) {
            cb.call(count.apply(stats, cause), cause.label());
          }
        }).register(registry);
  }
}
