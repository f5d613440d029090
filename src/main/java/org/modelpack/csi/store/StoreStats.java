package org.modelpack.csi.store;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Counters for the metrics endpoint and the operator view. */
public final class StoreStats {
  private static final Logger log = LoggerFactory.getLogger(StoreStats.class);

  final AtomicLong hits = new AtomicLong();
  final AtomicLong joins = new AtomicLong();
  final AtomicLong misses = new AtomicLong();
  final AtomicLong bytesDownloaded = new AtomicLong();
  final AtomicLong bytesSavedByDedup = new AtomicLong();
  final AtomicLong evictions = new AtomicLong();
  final AtomicLong bytesEvicted = new AtomicLong();
  private volatile DownloadListener downloads = DownloadListener.NONE;

  public record Snapshot(long hits, long joins, long misses, long bytesDownloaded,
      long bytesSavedByDedup, long evictions, long bytesEvicted) {}

  /**
   * Told of each layer download as it ends, once a layer, for a latency histogram (a value a
   * scrape cannot read from counters). Runs on the download's thread: must be quick.
   */
  public interface DownloadListener {
    DownloadListener NONE = (bytes, nanos, succeeded) -> { };

    /**
     * @param bytes the layer's size as announced in its manifest
     * @param nanos how long the download took, from the moment it had a download slot
     */
    void downloadEnded(long bytes, long nanos, boolean succeeded);
  }

  public Snapshot snapshot() {
    return new Snapshot(hits.get(), joins.get(), misses.get(), bytesDownloaded.get(),
        bytesSavedByDedup.get(), evictions.get(), bytesEvicted.get());
  }

  /** Replaces the listener of downloads ({@link DownloadListener#NONE} to stop). */
  public void listen(DownloadListener listener) {
    downloads = listener;
  }

  /** A listener that throws is ignored: metrics never fail a download. */
  void downloadEnded(long bytes, long nanos, boolean succeeded) {
    try {
      downloads.downloadEnded(bytes, nanos, succeeded);
    } catch (RuntimeException e) {
      log.debug("download listener failed: {}", e.toString());
    }
  }
}
