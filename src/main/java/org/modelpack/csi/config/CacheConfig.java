package org.modelpack.csi.config;

import java.nio.file.Path;

/**
 * The node-wide layer store ({@code cache.*}).
 *
 * @param dir where the store lives (default {@code <root_dir>/store}); may be another filesystem
 * @param maxSizeBytes size budget for the store; 0 = none
 * @param highWatermarkPercent filesystem usage that starts eviction
 * @param lowWatermarkPercent usage eviction brings it back to
 */
public record CacheConfig(Path dir, long maxSizeBytes, int highWatermarkPercent,
    int lowWatermarkPercent) {
  /** No budget. */
  public static final long DEFAULT_MAX_SIZE_BYTES = 0;
  public static final int DEFAULT_HIGH_WATERMARK_PERCENT = 85;
  public static final int DEFAULT_LOW_WATERMARK_PERCENT = 70;
}
