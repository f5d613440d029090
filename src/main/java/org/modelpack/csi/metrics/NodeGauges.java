package org.modelpack.csi.metrics;

import java.util.function.BooleanSupplier;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.volume.VolumeManager;

/**
 * The Go driver's node gauges, read at scrape time. This driver serves inline volumes only, so
 * the pvc and dynamic counts are 0; they are exported so that dashboards summing the three
 * keep working.
 */
final class NodeGauges {
  private NodeGauges() {}

  static void register(ReadAtScrape metrics, LayerStore store, VolumeManager volumes,
      BooleanSupplier ready) {
    metrics.gauge("model_csi_node_cache_size_in_bytes",
            "Bytes the node's model cache (the layer store) holds.",
            () -> StoreMetrics.sizeOf(store))
        .gauge("model_csi_node_mounted_inline_models",
            "Inline volumes mounted at one target or more.", volumes::mountedVolumes)
        .gauge("model_csi_node_mounted_pvc_models",
            "PVC volumes mounted (always 0: PVCs are not served yet).", () -> 0)
        .gauge("model_csi_node_mounted_dynamic_models",
            "Dynamic mounts (always 0: dynamic volumes are not served).", () -> 0)
        .gauge("model_csi_node_not_ready",
            "1 while the node cannot serve volumes (root_dir or cache.dir is not writable).",
            () -> ready.getAsBoolean() ? 0 : 1)
        .gauge("model_csi_node_pulls_in_flight", "Volume pulls running now.",
            volumes::pullsInFlight);
  }
}
