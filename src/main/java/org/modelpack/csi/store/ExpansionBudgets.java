package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.function.LongSupplier;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.unpack.ExpansionBudget;

/**
 * The {@link ExpansionBudget} of each tar layer the store extracts, computed when its
 * extraction starts (docs/decisions/0820): the ratio bound from {@link ExpansionLimits}, and as
 * space the smaller of the store filesystem's free space less a reserve of
 * {@link #RESERVE_PERCENT}% of it, and, with a disk usage limit, that limit less what the store
 * holds and is downloading.
 */
final class ExpansionBudgets {
  /** Kept free for everything else on the node (logs, other volumes, the kubelet). */
  static final int RESERVE_PERCENT = 1;

  private final ExpansionLimits limits;
  private final StoreLayout layout;
  private final LongSupplier committedBytes;

  /**
   * @param committedBytes bytes the store holds plus the announced sizes of its downloads,
   *     including the layer about to be extracted, whose blob is on disk during the extraction
   */
  ExpansionBudgets(ExpansionLimits limits, StoreLayout layout, LongSupplier committedBytes) {
    this.limits = limits;
    this.layout = layout;
    this.committedBytes = committedBytes;
  }

  ExpansionBudget forLayer(LayerRequest req, long compressedSize) throws IOException {
    FileStore fs = Files.getFileStore(layout.ingest());
    long reserve = fs.getTotalSpace() / 100 * RESERVE_PERCENT;
    long space = Math.max(0, fs.getUsableSpace() - reserve);
    String why = "free space of the filesystem holding " + layout.root() + ", less a reserve of "
        + RESERVE_PERCENT + "% of it (" + ByteSize.format(reserve) + ")";
    long limit = limits.diskUsageLimitBytes();
    if (limit > 0) {
      long committed = committedBytes.getAsLong();
      long room = Math.max(0, limit - committed);
      if (room < space) {
        space = room;
        why = "features.disk_usage_limit " + ByteSize.format(limit) + ", of which the layer "
            + "store holds or is downloading " + ByteSize.format(committed);
      }
    }
    return ExpansionBudget.of(req.digest(), req.format(), compressedSize, limits.maxRatio(),
        space, why);
  }
}
