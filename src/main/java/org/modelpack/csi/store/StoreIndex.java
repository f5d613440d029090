package org.modelpack.csi.store;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the store holds and who uses it: each entry with the volumes referencing it and when it
 * was last used. Its {@link #lock} is shared with the flights ({@link Singleflight}) and with
 * eviction, so "stored, in flight, or new" and "unused, so evictable" are each decided at once.
 */
final class StoreIndex {
  private static final Logger log = LoggerFactory.getLogger(StoreIndex.class);

  final Object lock = new Object();
  private final Map<LayerKey, Indexed> entries = new HashMap<>();
  /**
   * Sum of the entries' sizes, kept as they come and go: the eviction check after every new
   * entry asks for it, and summing the map each time made a pull of n layers cost O(n²)
   * under the lock. Guarded by {@link #lock}.
   */
  private long totalSize;

  /** An entry known to the store, with the volumes using it. Guarded by {@link #lock}. */
  static final class Indexed {
    final StoreEntry entry;
    final Set<String> volumes = new HashSet<>();
    Instant lastUsed;

    Indexed(StoreEntry entry, Instant lastUsed) {
      this.entry = entry;
      this.lastUsed = lastUsed;
    }
  }

  /** The index a start rebuilds from a scan of the store and the volume records. */
  static StoreIndex of(StoreScan.Result scan) {
    StoreIndex index = new StoreIndex();
    synchronized (index.lock) {
      scan.entries().forEach((key, e) -> index.put(new Indexed(e.entry(), e.lastUsed())));
      scan.references().forEach((key, volumes) -> {
        Indexed i = index.entries.get(key);
        if (i != null) {
          i.volumes.addAll(volumes);
        }
      });
    }
    return index;
  }

  /** The stored entry for {@code key}, now referenced by {@code volumeId}; empty on a miss. */
  Optional<StoreEntry> use(LayerKey key, String volumeId, Instant now) {
    synchronized (lock) {
      Indexed hit = entries.get(key);
      if (hit == null) {
        return Optional.empty();
      }
      hit.volumes.add(volumeId);
      hit.lastUsed = now;
      return Optional.of(hit.entry);
    }
  }

  /**
   * Adds a new entry referenced by {@code volumes}. An entry already indexed under its key (a
   * cancelled flight finishing after a newer one) is kept, with the volumes that use it.
   */
  void add(StoreEntry entry, Collection<String> volumes, Instant now) {
    synchronized (lock) {
      Indexed indexed = entries.get(entry.key());
      if (indexed == null) {
        indexed = put(new Indexed(entry, null));
      }
      indexed.lastUsed = now;
      indexed.volumes.addAll(volumes);
    }
  }

  /** Notes that the volume of {@code record} uses its layers, as of its completion. */
  void reference(VolumeRecord record) {
    synchronized (lock) {
      for (VolumeRecord.Layer l : record.layers()) {
        Indexed i = entries.get(l.key());
        if (i != null) {
          i.volumes.add(record.volumeId());
          i.lastUsed = record.completedAt();
        }
      }
    }
  }

  /** The indexed entries among {@code keys}. */
  Map<LayerKey, StoreEntry> lookup(Collection<LayerKey> keys) {
    Map<LayerKey, StoreEntry> found = new HashMap<>();
    synchronized (lock) {
      for (LayerKey k : keys) {
        Indexed i = entries.get(k);
        if (i != null) {
          found.put(k, i.entry);
        }
      }
    }
    return found;
  }

  void release(String volumeId) {
    synchronized (lock) {
      entries.values().forEach(i -> i.volumes.remove(volumeId));
    }
  }

  /**
   * Forgets {@code entry} when its file or tree is no longer on disk (removed by hand, or lost
   * with a disk), so the next request downloads it again instead of failing on it for ever.
   */
  void forgetIfVanished(StoreEntry entry) {
    if (Files.exists(entry.path(), LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    synchronized (lock) {
      Indexed i = entries.get(entry.key());
      if (i != null && i.entry.equals(entry)) {
        remove(entry.key());
        log.warn("store entry {} vanished from {}; it will be downloaded again", entry.key(),
            entry.path());
      }
    }
  }

  boolean contains(LayerKey key) {
    synchronized (lock) {
      return entries.containsKey(key);
    }
  }

  Set<LayerKey> keys() {
    synchronized (lock) {
      return new HashSet<>(entries.keySet());
    }
  }

  List<EntryInfo> infos() {
    synchronized (lock) {
      return entries.values().stream()
          .map(i -> new EntryInfo(i.entry.key(), i.entry.size(), i.volumes, i.lastUsed))
          .sorted(Comparator.comparing(EntryInfo::lastUsed)).toList();
    }
  }

  long size() {
    synchronized (lock) {
      return totalSize;
    }
  }

  /**
   * Entries no volume uses and {@code keep} does not hold back, least recently used first. The
   * caller holds {@link #lock} while it acts on them.
   */
  List<StoreEntry> unreferencedOldestFirst(Predicate<LayerKey> keep) {
    return entries.values().stream()
        .filter(i -> i.volumes.isEmpty() && !keep.test(i.entry.key()))
        .sorted(Comparator.comparing(i -> i.lastUsed))
        .map(i -> i.entry).toList();
  }

  /** Drops an entry; the caller holds {@link #lock}. */
  void remove(LayerKey key) {
    Indexed gone = entries.remove(key);
    if (gone != null) {
      totalSize -= gone.entry.size();
    }
  }

  /** Guarded by {@link #lock}; the key must not be indexed yet. */
  private Indexed put(Indexed i) {
    entries.put(i.entry.key(), i);
    totalSize += i.entry.size();
    return i;
  }
}
