package org.modelpack.csi.metrics;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.modelpack.csi.config.MetricsAddress;
import org.modelpack.csi.registry.RegistryStats;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreStats;
import org.modelpack.csi.volume.NodeOps;
import org.modelpack.csi.volume.VolumeManager;

/**
 * The driver's metrics, in two steps because of how the node is wired: {@link #nodeOps()} is
 * handed to the volume manager when it is built, and {@link #serve} then reads the store and
 * the volumes and starts the HTTP server. With no {@code metrics_addr} nothing is created at
 * all and operations go to {@link NodeOps#NONE}.
 */
public final class DriverMetrics {
  private final MetricsAddress address;
  /** Own registry, not the default one: tests run several nodes in one JVM. */
  private final PrometheusRegistry registry;
  private final NodeOpMetrics nodeOps;

  /** The metrics being served; closing stops the listeners and detaches from the store. */
  public interface Serving extends AutoCloseable {
    Serving NOTHING = () -> { };

    @Override
    void close();
  }

  private DriverMetrics(MetricsAddress address, PrometheusRegistry registry,
      NodeOpMetrics nodeOps) {
    this.address = address;
    this.registry = registry;
    this.nodeOps = nodeOps;
  }

  public static DriverMetrics create(MetricsAddress address) {
    if (!address.enabled()) {
      return new DriverMetrics(address, null, null);
    }
    PrometheusRegistry registry = new PrometheusRegistry();
    return new DriverMetrics(address, registry, new NodeOpMetrics(registry));
  }

  public NodeOps nodeOps() {
    return nodeOps == null ? NodeOps.NONE : nodeOps;
  }

  /**
   * {@code model_csi_events_dropped_total}: the pods' Events dropped because the API server did
   * not keep up, read at scrape from {@code dropped} (the events' own counter).
   */
  public DriverMetrics countDroppedEvents(LongSupplier dropped) {
    if (registry != null) {
      new ReadAtScrape(registry).counter("model_csi_events_dropped",
          "Kubernetes Events on pods dropped because the API server did not keep up.",
          dropped::getAsLong);
    }
    return this;
  }

  /**
   * {@code model_csi_registry_retries_total{cause}} and {@code _resumes_total{cause}}, read at
   * scrape from the registry client's own counters.
   */
  public DriverMetrics countRegistryRetries(RegistryStats stats) {
    if (registry != null) {
      RegistryMetrics.register(registry, stats);
    }
    return this;
  }

  /**
   * {@code model_csi_store_budget_bytes}: the store's size budget ({@code cache.max_size}), for
   * plotting the store's size against it. No sample when there is no budget ({@code
   * budgetBytes} 0; the budget is read once at start): a line at 0 would read as "keep nothing".
   */
  public DriverMetrics storeBudget(long budgetBytes) {
    if (registry != null && budgetBytes > 0) {
      new ReadAtScrape(registry).gauge(StoreMetrics.PREFIX + "budget_bytes",
          "The layer store's size budget (cache.max_size); absent when unlimited.",
          () -> budgetBytes);
    }
    return this;
  }

  /**
   * Registers the store's, the node's and the JVM's metrics and starts listening.
   *
   * @param ready whether the node can serve volumes now
   */
  public Serving serve(LayerStore store, VolumeManager volumes, BooleanSupplier ready)
      throws IOException {
    if (registry == null) {
      return Serving.NOTHING;
    }
    ReadAtScrape readings = new ReadAtScrape(registry);
    NodeGauges.register(readings, store, volumes, ready);
    StoreMetrics.register(readings, store);
    JvmCollectors.register(registry);
    MetricsServer server = MetricsServer.start(address, registry, ready);
    store.stats().listen(nodeOps);
    return () -> {
      store.stats().listen(StoreStats.DownloadListener.NONE);
      server.close();
    };
  }
}
