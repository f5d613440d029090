package org.modelpack.csi.metrics;

import java.util.function.BooleanSupplier;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.volume.VolumeKind;
import org.modelpack.csi.volume.VolumeManager;

/** The Go driver's node gauges, read at scrape time. */
final class NodeGauges {
  private NodeGauges() {}

  static void register(ReadAtScrape metrics, LayerStore store, VolumeManager volumes,
      BooleanSupplier ready) {
    metrics.gauge("model_csi_node_cache_size_in_bytes",
            "Bytes the node's model cache (the layer store) holds.",
            () -> StoreMetrics.sizeOf(store))
        .gauge("model_csi_node_mounted_inline_models",
            "Inline volumes mounted at one target or more.",
            () -> volumes.mountedVolumes(VolumeKind.INLINE))
        .gauge("model_csi_node_mounted_pvc_models",
            "PVC volumes staged or published on this node.",
            () -> volumes.mountedVolumes(VolumeKind.PVC))
        .gauge("model_csi_node_mounted_dynamic_models",
            "Models mounted into dynamic volumes.",
            () -> volumes.mountedVolumes(VolumeKind.DYNAMIC))
        .gauge("model_csi_node_not_ready",
            "1 while the node cannot serve volumes (root_dir or cache.dir is not writable).",
            () -> ready.getAsBoolean() ? 0 : 1)
        .gauge("model_csi_node_pulls_in_flight", "Volume pulls running now.",
            volumes::pullsInFlight);
  }
}
