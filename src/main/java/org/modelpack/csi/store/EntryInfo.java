package org.modelpack.csi.store;

import java.time.Instant;
import java.util.Set;

/** What the operator view shows of one entry. */
public record EntryInfo(LayerKey key, long size, Set<String> volumes, Instant lastUsed) {
  public EntryInfo {
    volumes = Set.copyOf(volumes);
  }
}
