package org.modelpack.csi.store;

import java.util.concurrent.atomic.AtomicLong;

/** Counters for the metrics endpoint and the operator view. */
public final class StoreStats {
  final AtomicLong hits = new AtomicLong();
  final AtomicLong joins = new AtomicLong();
  final AtomicLong misses = new AtomicLong();
  final AtomicLong bytesDownloaded = new AtomicLong();
  final AtomicLong bytesSavedByDedup = new AtomicLong();
  final AtomicLong evictions = new AtomicLong();
  final AtomicLong bytesEvicted = new AtomicLong();

  public record Snapshot(long hits, long joins, long misses, long bytesDownloaded,
      long bytesSavedByDedup, long evictions, long bytesEvicted) {}

  public Snapshot snapshot() {
    return new Snapshot(hits.get(), joins.get(), misses.get(), bytesDownloaded.get(),
        bytesSavedByDedup.get(), evictions.get(), bytesEvicted.get());
  }
}
