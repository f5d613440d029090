package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes unreferenced entries, least recently used first, under the size budget and the disk
 * high/low watermarks of an {@link EvictionPolicy}. Referenced entries, and entries a running
 * flight may be about to hand out, are never evicted.
 */
final class Evictor {
  private static final Logger log = LoggerFactory.getLogger(Evictor.class);

  private final StoreLayout layout;
  private final StoreIndex index;
  private final Predicate<LayerKey> inFlightLocked;
  private final EvictionPolicy policy;
  private final StoreStats stats;
  /** The store's filesystem once looked up; see {@link #fileStore}. */
  private volatile FileStore store;

  /** {@code inFlightLocked} is asked with the index's lock held. */
  Evictor(StoreLayout layout, StoreIndex index, Predicate<LayerKey> inFlightLocked,
      EvictionPolicy policy, StoreStats stats) {
    this.layout = layout;
    this.index = index;
    this.inFlightLocked = inFlightLocked;
    this.policy = policy;
    this.stats = stats;
  }

  /** Applies the policy: size budget, then the disk high/low watermarks. */
  EvictionResult evictIfNeeded() {
    long budget = policy.maxSizeBytes() > 0 ? policy.maxSizeBytes() : Long.MAX_VALUE;
    double usage = diskUsagePercent();
    int targetPercent = usage > policy.highWatermarkPercent() ? policy.lowWatermarkPercent() : 100;
    if (index.size() <= budget && targetPercent == 100) {
      return new EvictionResult(List.of(), 0);
    }
    return evict(budget, targetPercent, Set.of());
  }

  /**
   * Evicts until the store is within {@code budget} bytes and the disk within
   * {@code targetPercent} usage, never the entries in {@code keep} (a pull about to use them).
   */
  EvictionResult evict(long budget, int targetPercent, Set<LayerKey> keep) {
    List<Path> trash = new ArrayList<>();
    List<LayerKey> evicted = new ArrayList<>();
    long freed = 0;
    long total = diskTotal();
    double usage = diskUsagePercent();
    synchronized (index.lock) {
      long size = index.size();
      // An entry a running flight may be about to hand out (a late, cancelled ingest of the same
      // digest placed it) is not evicted under that flight.
      for (StoreEntry c : index.unreferencedOldestFirst(
          k -> keep.contains(k) || inFlightLocked.test(k))) {
        if (size <= budget && usage <= targetPercent) {
          break;
        }
        Path moved = layout.ingest().resolve("evicting-" + c.key().digest().replace(':', '-')
            + "-" + System.nanoTime());
        try {
          Dirs.create(layout.ingest(), Dirs.PRIVATE);
          // Renamed away under the lock, so a new download of the same key can never see a
          // half-deleted entry.
          Files.move(c.path(), moved);
          if (c.key().kind() == EntryKind.TREE) {
            Files.deleteIfExists(layout.treeMeta(c.key()));
          }
        } catch (IOException e) {
          log.warn("cannot evict {}: {}", c.key(), e.getMessage());
          continue;
        }
        index.remove(c.key());
        trash.add(moved);
        evicted.add(c.key());
        freed += c.size();
        size -= c.size();
        if (total > 0) {
          usage -= 100.0 * c.size() / total;
        }
      }
    }
    for (Path p : trash) {
      try {
        ReadOnly.makeDeletable(p);
        FileTrees.delete(p);
      } catch (IOException e) {
        log.warn("cannot delete evicted {}: {}", p, e.getMessage());
      }
    }
    if (!evicted.isEmpty()) {
      stats.evictions.addAndGet(evicted.size());
      stats.bytesEvicted.addAndGet(freed);
      log.info("evicted {} unreferenced entries ({} bytes)", evicted.size(), freed);
    }
    return new EvictionResult(evicted, freed);
  }

  /** Free bytes (for an unprivileged writer) on the filesystem holding the store. */
  long usableSpace() throws IOException {
    return fileStore().getUsableSpace();
  }

  /** Size of the filesystem holding the store: no entry can ever be larger. */
  long filesystemSize() throws IOException {
    return fileStore().getTotalSpace();
  }

  /**
   * The filesystem holding the store, looked up once the store exists: the lookup resolves the
   * real path and reads the mount table, and the check after every download asked for it
   * (2,008 times in a pull of 2,008 layers). Its sizes are read anew at each call (statfs).
   */
  private FileStore fileStore() throws IOException {
    FileStore known = store;
    if (known != null) {
      return known;
    }
    Path p = layout.root();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    FileStore found = Files.getFileStore(p == null ? layout.root() : p);
    if (p != null && p.equals(layout.root())) {
      store = found;
    }
    return found;
  }

  private double diskUsagePercent() {
    try {
      FileStore fs = fileStore();
      long total = fs.getTotalSpace();
      return total == 0 ? 0 : 100.0 * (total - fs.getUsableSpace()) / total;
    } catch (IOException e) {
      return 0;
    }
  }

  private long diskTotal() {
    try {
      return fileStore().getTotalSpace();
    } catch (IOException e) {
      return 0;
    }
  }
}
