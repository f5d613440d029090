package org.modelpack.csi.store;

import java.util.List;

/** What an eviction run removed. */
public record EvictionResult(List<LayerKey> evicted, long bytesFreed) {
  public EvictionResult {
    evicted = List.copyOf(evicted);
  }
}
