package org.modelpack.csi.pull;

import java.io.IOException;
import java.util.Set;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.store.EvictionResult;
import org.modelpack.csi.store.LayerKey;
import org.modelpack.csi.store.LayerStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a pull before any download when what it would add to the layer store does not fit
 * (docs/decisions/0402).
 *
 * <ul>
 *   <li>Cost: the kept layers' announced sizes, each store entry once, leaving out entries the
 *       store already holds or is downloading.</li>
 *   <li>Available: with {@code features.disk_usage_limit}, the limit minus the bytes the store
 *       holds and is downloading; without it, the free space of the store's filesystem.</li>
 *   <li>When the pull does not fit, unreferenced (warm cache) entries it does not itself use
 *       are evicted first, as the store would do on ENOSPC; only then is it refused.</li>
 * </ul>
 */
public final class DiskQuota {
  private static final Logger log = LoggerFactory.getLogger(DiskQuota.class);

  private final LayerStore store;
  private final boolean enabled;
  private final long limitBytes;

  /**
   * @param enabled {@code features.check_disk_quota}: without it no volume is checked
   * @param limitBytes {@code features.disk_usage_limit}; 0 = the filesystem's free space
   */
  public DiskQuota(LayerStore store, boolean enabled, long limitBytes) {
    this.store = store;
    this.enabled = enabled;
    this.limitBytes = limitBytes;
  }

  public static DiskQuota off(LayerStore store) {
    return new DiskQuota(store, false, 0);
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * Checks {@code plan} when quotas are enabled and the volume asked for it.
   *
   * @throws DriverException RESOURCE_EXHAUSTED when the pull does not fit
   */
  public void check(PullPlan plan, boolean requested) {
    if (!enabled || !requested) {
      return;
    }
    long need = plan.bytesToAdd(store.keys());
    if (need == 0) {
      return;
    }
    long available = available();
    if (need > available) {
      Set<LayerKey> keep = plan.uniqueEntries().keySet();
      EvictionResult freed = store.evictUnreferenced(store.size() - (need - available), 100, keep);
      if (!freed.evicted().isEmpty()) {
        log.info("model {}: evicted {} unreferenced entries ({}) to make room", plan.reference(),
            freed.evicted().size(), ByteSize.format(freed.bytesFreed()));
        need = plan.bytesToAdd(store.keys());
        available = available();
      }
    }
    if (need > available) {
      throw new DriverException(ErrorKind.RESOURCE_EXHAUSTED, "model " + plan.reference()
          + " needs " + ByteSize.format(need) + " but only "
          + ByteSize.format(Math.max(0, available)) + " of disk quota is available ("
          + (limitBytes > 0 ? "features.disk_usage_limit " + ByteSize.format(limitBytes)
              + ", of which the layer store uses " + ByteSize.format(store.committedBytes())
              : "free space of the filesystem holding " + store.layout().root()) + ")");
    }
    log.debug("model {}: quota check passed: needs {} of {} available", plan.reference(),
        ByteSize.format(need), ByteSize.format(available));
  }

  private long available() {
    if (limitBytes > 0) {
      return limitBytes - store.committedBytes();
    }
    try {
      return store.usableSpace();
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "cannot read the free space of "
          + store.layout().root() + ": " + e.getMessage(), e);
    }
  }
}
