package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/** The store's room, as a quota check sees it. */
public interface StoreCapacity {
  /** Where the store lives, for messages. */
  Path root();

  /**
   * What a new pull gets without adding to the store: the keys of its entries and of the
   * downloads in flight (a new request joins those).
   */
  Set<LayerKey> keys();

  /** Bytes the store holds plus the announced sizes of the downloads in flight. */
  long committedBytes();

  /** Free bytes (for an unprivileged writer) and size of the filesystem holding the store. */
  DiskSpace diskSpace() throws IOException;

  /**
   * Evicts unreferenced entries, least recently used first, until {@code bytes} are freed or
   * none is left, never the entries in {@code keep}.
   */
  EvictionResult freeUp(long bytes, Set<LayerKey> keep);

  /** @param usable free bytes for an unprivileged writer; @param total the filesystem's size */
  record DiskSpace(long usable, long total) {}
}
