package org.modelpack.csi.store;

import org.modelpack.csi.config.CacheConfig;

/**
 * When to evict unreferenced entries.
 *
 * @param maxSizeBytes store size budget; 0 = no budget
 * @param highWatermarkPercent filesystem usage that triggers eviction
 * @param lowWatermarkPercent usage eviction brings the filesystem back to
 */
public record EvictionPolicy(long maxSizeBytes, int highWatermarkPercent,
    int lowWatermarkPercent) {
  /** The configuration's defaults. */
  public static final EvictionPolicy DEFAULT = new EvictionPolicy(
      CacheConfig.DEFAULT_MAX_SIZE_BYTES, CacheConfig.DEFAULT_HIGH_WATERMARK_PERCENT,
      CacheConfig.DEFAULT_LOW_WATERMARK_PERCENT);
}
