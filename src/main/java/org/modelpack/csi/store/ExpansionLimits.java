package org.modelpack.csi.store;

import org.modelpack.csi.config.PullConfig;

/**
 * What bounds the extraction of a tar layer into the store (docs/decisions/0820).
 *
 * @param maxRatio {@code pull_config.max_expansion_ratio}: a compressed layer may expand to at
 *     most this many times its size; 0 = no ratio bound
 * @param diskUsageLimitBytes {@code features.disk_usage_limit}: when set, an extraction may
 *     write at most this limit minus what the store holds and is downloading; 0 = not set
 */
public record ExpansionLimits(int maxRatio, long diskUsageLimitBytes) {
  /** The configuration's defaults: ratio 100, no disk usage limit. */
  public static final ExpansionLimits DEFAULT =
      new ExpansionLimits(PullConfig.DEFAULT_MAX_EXPANSION_RATIO, 0);

  public ExpansionLimits {
    if (maxRatio < 0 || diskUsageLimitBytes < 0) {
      throw new IllegalArgumentException("expansion limits must not be negative: " + maxRatio
          + ", " + diskUsageLimitBytes);
    }
  }
}
