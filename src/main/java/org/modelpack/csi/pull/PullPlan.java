package org.modelpack.csi.pull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.store.LayerKey;

/**
 * A resolved model: the manifest pinned by digest, its exact bytes (recorded for offline use)
 * and what to do with each layer the volume keeps.
 *
 * @param layers only the layers {@code filter} keeps; progress and quota count these alone
 * @param excludedLayers how many of the manifest's layers the filter left out
 */
public record PullPlan(Reference reference, String manifestDigest, List<LayerPlan> layers,
    byte[] rawManifest, LayerFilter filter, int excludedLayers) {
  public PullPlan {
    layers = List.copyOf(layers);
    filter = filter == null ? LayerFilter.NONE : filter;
  }

  public PullPlan(Reference reference, String manifestDigest, List<LayerPlan> layers,
      byte[] rawManifest) {
    this(reference, manifestDigest, layers, rawManifest, LayerFilter.NONE, 0);
  }

  public long totalBytes() {
    return layers.stream().mapToLong(l -> l.layer().size()).sum();
  }

  /** Each store entry the kept layers need, once, with its size as announced by the manifest. */
  public Map<LayerKey, Long> uniqueEntries() {
    Map<LayerKey, Long> entries = new LinkedHashMap<>();
    for (LayerPlan l : layers) {
      entries.putIfAbsent(l.storeRequest().key(), l.layer().size());
    }
    return entries;
  }

  /** Bytes the pull would add to a store that already holds {@code present}. */
  public long bytesToAdd(Set<LayerKey> present) {
    return uniqueEntries().entrySet().stream().filter(e -> !present.contains(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
  }
}
