package org.modelpack.csi.metrics;

import java.util.function.ToLongFunction;
import org.modelpack.csi.store.EntryInfo;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreStats;

/**
 * The layer store's own metrics ({@code model_csi_store_*}), read from {@link StoreStats} and
 * the store's index at scrape time.
 */
final class StoreMetrics {
  static final String PREFIX = "model_csi_store_";

  private StoreMetrics() {}

  static void register(ReadAtScrape metrics, LayerStore store) {
    StoreStats stats = store.stats();
    stat(metrics, stats, "layer_hits", "Layers a volume found already in the store.",
        StoreStats.Snapshot::hits);
    stat(metrics, stats, "layer_misses", "Layers downloaded because the store lacked them.",
        StoreStats.Snapshot::misses);
    stat(metrics, stats, "layer_joins",
        "Layers a volume got by joining a download already in flight.",
        StoreStats.Snapshot::joins);
    stat(metrics, stats, "downloaded_bytes", "Bytes downloaded from registries.",
        StoreStats.Snapshot::bytesDownloaded);
    stat(metrics, stats, "dedup_saved_bytes",
        "Bytes not downloaded because the store had them or was fetching them.",
        StoreStats.Snapshot::bytesSavedByDedup);
    stat(metrics, stats, "evictions", "Entries evicted to free space.",
        StoreStats.Snapshot::evictions);
    stat(metrics, stats, "evicted_bytes", "Bytes freed by evictions.",
        StoreStats.Snapshot::bytesEvicted);
    metrics.gauge(PREFIX + "size_bytes", "Bytes the store's entries hold.",
        () -> sizeOf(store))
        .gauge(PREFIX + "entries", "Entries (layers) in the store.",
            () -> store.entries().size());
  }

  static double sizeOf(LayerStore store) {
    return store.entries().stream().mapToLong(EntryInfo::size).sum();
  }

  private static void stat(ReadAtScrape metrics, StoreStats stats, String name, String help,
      ToLongFunction<StoreStats.Snapshot> field) {
    metrics.counter(PREFIX + name, help, () -> field.applyAsLong(stats.snapshot()));
  }
}
