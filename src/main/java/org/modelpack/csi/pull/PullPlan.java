package org.modelpack.csi.pull;

import java.util.List;
import org.modelpack.csi.registry.Reference;

/**
 * A resolved model: the manifest pinned by digest, its exact bytes (recorded for offline use)
 * and what to do with each layer.
 */
public record PullPlan(Reference reference, String manifestDigest, List<LayerPlan> layers,
    byte[] rawManifest) {
  public PullPlan {
    layers = List.copyOf(layers);
  }

  public long totalBytes() {
    return layers.stream().mapToLong(l -> l.layer().size()).sum();
  }
}
