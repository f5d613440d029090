package org.modelpack.csi.store;

/**
 * When to evict unreferenced entries.
 *
 * @param maxSizeBytes store size budget; 0 = no budget
 * @param highWatermarkPercent filesystem usage that triggers eviction
 * @param lowWatermarkPercent usage eviction brings the filesystem back to
 */
public record EvictionPolicy(long maxSizeBytes, int highWatermarkPercent,
    int lowWatermarkPercent) {
  public static final EvictionPolicy DEFAULT = new EvictionPolicy(0, 85, 70);
}
