package org.modelpack.csi.pull;

import java.util.List;
import org.modelpack.csi.registry.Reference;

/** A resolved model: the manifest pinned by digest and what to do with each layer. */
public record PullPlan(Reference reference, String manifestDigest, List<LayerPlan> layers) {
  public PullPlan {
    layers = List.copyOf(layers);
  }

  public long totalBytes() {
    return layers.stream().mapToLong(l -> l.layer().size()).sum();
  }
}
