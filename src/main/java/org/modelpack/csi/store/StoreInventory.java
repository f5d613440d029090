package org.modelpack.csi.store;

import java.nio.file.Path;
import java.util.List;

/** The operator's view of the store: what it holds, its counters, eviction on demand. */
public interface StoreInventory {
  Path root();

  /** Every entry, least recently used first. */
  List<EntryInfo> entries();

  StoreStats stats();

  /** Applies the eviction policy: size budget, then the disk high/low watermarks. */
  EvictionResult evictIfNeeded();

  /**
   * Evicts unreferenced entries, least recently used first, until the store is within
   * {@code budget} bytes and the disk within {@code targetPercent} usage.
   */
  EvictionResult evictUnreferenced(long budget, int targetPercent);
}
