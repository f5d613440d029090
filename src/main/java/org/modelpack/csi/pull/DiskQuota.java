package org.modelpack.csi.pull;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.store.EvictionResult;
import org.modelpack.csi.store.LayerKey;
import org.modelpack.csi.store.StoreCapacity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a pull before any download when what it would add to the layer store does not fit
 * (docs/decisions/0402). A layer declaring more than the store's whole filesystem is refused
 * for every pull, checked or not (docs/decisions/0822).
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

  private final StoreCapacity store;
  private final boolean enabled;
  private final long limitBytes;

  /**
   * @param enabled {@code features.check_disk_quota}: without it no volume is checked
   * @param limitBytes {@code features.disk_usage_limit}; 0 = the filesystem's free space
   */
  public DiskQuota(StoreCapacity store, boolean enabled, long limitBytes) {
    this.store = store;
    this.enabled = enabled;
    this.limitBytes = limitBytes;
  }

  public static DiskQuota off(StoreCapacity store) {
    return new DiskQuota(store, false, 0);
  }

  public boolean enabled() {
    return enabled;
  }

  /** Room promised to a pull that passed the check, until its downloads are in the store. */
  public interface Reservation extends AutoCloseable {
    @Override
    void close();
  }

  private static final Reservation NONE = () -> { };

  /**
   * Entries promised to pulls that passed the check and have not finished: counted as used
   * until they are in the store or downloading, so two pulls checked at once cannot both take
   * the same room. Guarded by {@code this}.
   */
  private final Map<Reservation, Map<LayerKey, Long>> reserved = new HashMap<>();

  /**
   * Checks {@code plan} when quotas are enabled and the volume asked for it, and holds the room
   * it needs until the returned reservation is closed (when the pull's layers are in the store,
   * or the pull failed).
   *
   * @throws DriverException RESOURCE_EXHAUSTED when the pull does not fit
   */
  public synchronized Reservation check(PullPlan plan, boolean requested) {
    Set<LayerKey> present = store.keys();
    refuseLayersLargerThanTheFilesystem(plan, present);
    if (!enabled || !requested) {
      return NONE;
    }
    Map<LayerKey, Long> toAdd = toAdd(plan, present);
    long need = sum(toAdd);
    if (need == 0) {
      return NONE;
    }
    long available = available(present);
    if (need > available) {
      Set<LayerKey> keep = plan.uniqueEntries().keySet();
      EvictionResult freed = store.freeUp(need - available, keep);
      if (!freed.evicted().isEmpty()) {
        log.info("model {}: evicted {} unreferenced entries ({}) to make room", plan.reference(),
            freed.evicted().size(), ByteSize.format(freed.bytesFreed()));
        present = store.keys();
        toAdd = toAdd(plan, present);
        need = sum(toAdd);
        available = available(present);
      }
    }
    if (need > available) {
      throw new DriverException(ErrorKind.RESOURCE_EXHAUSTED, "model " + plan.reference()
          + " needs " + ByteSize.format(need) + " but only "
          + ByteSize.format(Math.max(0, available)) + " of disk quota is available ("
          + (limitBytes > 0 ? "features.disk_usage_limit " + ByteSize.format(limitBytes)
              + ", of which the layer store uses " + ByteSize.format(store.committedBytes())
              : "free space of the filesystem holding " + store.root()) + ")");
    }
    log.debug("model {}: quota check passed: needs {} of {} available", plan.reference(),
        ByteSize.format(need), ByteSize.format(available));
    Reservation r = new Reservation() {
      @Override
      public void close() {
        synchronized (DiskQuota.this) {
          reserved.remove(this);
        }
      }
    };
    reserved.put(r, toAdd);
    return r;
  }

  /**
   * Refuses, whatever the quota settings, a layer the store does not have that declares more
   * bytes than the store's whole filesystem: it cannot fit however much is evicted, and
   * downloading it would only fill the disk first (docs/decisions/0822).
   */
  private void refuseLayersLargerThanTheFilesystem(PullPlan plan, Set<LayerKey> present) {
    long capacity;
    try {
      capacity = store.diskSpace().total();
    } catch (IOException e) {
      log.warn("cannot read the size of the filesystem holding {}: {}", store.root(),
          e.getMessage());
      return;
    }
    plan.uniqueEntries().forEach((key, size) -> {
      if (size > capacity && !present.contains(key)) {
        throw new DriverException(ErrorKind.RESOURCE_EXHAUSTED, "model " + plan.reference()
            + ": layer " + key.digest() + " declares " + ByteSize.format(size) + " (" + size
            + " bytes), more than the whole filesystem holding the layer store "
            + store.root() + " (" + ByteSize.format(capacity) + ")");
      }
    });
  }

  /**
   * What the plan adds: its entries neither in the store, nor downloading, nor promised to
   * another pull (it will join that download).
   */
  private Map<LayerKey, Long> toAdd(PullPlan plan, Set<LayerKey> present) {
    Map<LayerKey, Long> add = new HashMap<>();
    plan.uniqueEntries().forEach((key, size) -> {
      if (!present.contains(key) && !isReserved(key)) {
        add.put(key, size);
      }
    });
    return add;
  }

  private boolean isReserved(LayerKey key) {
    return reserved.values().stream().anyMatch(m -> m.containsKey(key));
  }

  /** Room left, less what other pulls were promised and have not started downloading. */
  private long available(Set<LayerKey> present) {
    long promised = reserved.values().stream().flatMap(m -> m.entrySet().stream())
        .filter(e -> !present.contains(e.getKey())).mapToLong(Map.Entry::getValue).sum();
    if (limitBytes > 0) {
      return limitBytes - store.committedBytes() - promised;
    }
    try {
      return store.diskSpace().usable() - promised;
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "cannot read the free space of "
          + store.root() + ": " + e.getMessage(), e);
    }
  }

  private static long sum(Map<LayerKey, Long> entries) {
    return entries.values().stream().mapToLong(Long::longValue).sum();
  }
}
