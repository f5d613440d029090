package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.modelpack.csi.fs.FileSystemSync;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entries committed without an fsync of their own, until one syncfs(2) of the store's
 * filesystem covers them (docs/decisions/1220). A commit is cheap (link or rename, no flush);
 * what makes an entry durable is {@link #awaitDurable}, which a volume's record waits for, so
 * nothing a record names (and so nothing mounted) can be lost to a power cut.
 *
 * <p>While any entry may be unsynced, {@code <store>/unsynced.json} exists (written and
 * fsynced before the first such commit): it names the boot and the time from which entries
 * may be torn. A start that finds it syncs the filesystem; if the machine rebooted meanwhile
 * (a power cut may have lost written pages), the entries committed since then are checked
 * again by {@link StoreScan} before anything is served.
 */
final class UnsyncedEntries {
  private static final Logger log = LoggerFactory.getLogger(UnsyncedEntries.class);
  private static final ObjectMapper JSON = Json.mapper();
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
  /** Clock steps and timestamp granularity: entries a little older are checked too. */
  private static final long SLACK_SECONDS = 2;

  private final StoreLayout layout;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}: commit sequence of each entry not yet covered by a sync. */
  private final Map<LayerKey, Long> unsynced = new HashMap<>();
  /** Guarded by {@link #lock}. */
  private long committed;
  /** Guarded by {@link #lock}. */
  private long synced;
  /** Guarded by {@link #lock}: commits between {@link #beforeCommit} and {@link #committed}. */
  private int committing;
  /** Guarded by {@link #lock}: whether the marker file is on disk. */
  private boolean marked;
  /** One syncfs at a time; a caller arriving meanwhile usually finds its entries covered. */
  private final Object syncing = new Object();

  UnsyncedEntries(StoreLayout layout) {
    this.layout = layout;
  }

  /** Before an entry is linked or renamed into place unsynced: the marker is durable first. */
  void beforeCommit() throws IOException {
    synchronized (lock) {
      if (!marked) {
        FileTrees.writeAtomically(layout.unsyncedMarker(), JSON.writeValueAsBytes(Map.of(
            "boot_id", bootId().orElse(""), "since", Instant.now().toString())));
        marked = true;
      }
      committing++;
    }
  }

  /** After the commit that {@link #beforeCommit} announced, whether or not it succeeded. */
  void committed(LayerKey key) {
    synchronized (lock) {
      committing--;
      unsynced.put(key, ++committed);
    }
  }

  /** Whether {@code key} was committed and no sync has covered it yet. */
  boolean isUnsynced(LayerKey key) {
    synchronized (lock) {
      return unsynced.containsKey(key);
    }
  }

  /**
   * Returns once every entry among {@code keys} is durable: at once when a sync already covered
   * them, else after a syncfs (one for everyone waiting at the time).
   */
  void awaitDurable(Collection<LayerKey> keys) throws IOException {
    long target = pendingUpTo(keys);
    if (target == 0) {
      return;
    }
    synchronized (syncing) {
      long covers;
      synchronized (lock) {
        if (synced >= target) {
          return;
        }
        covers = committed;
      }
      FileSystemSync.syncFileSystemOf(layout.root());
      synchronized (lock) {
        synced = Math.max(synced, covers);
        unsynced.values().removeIf(seq -> seq <= covers);
        if (unsynced.isEmpty() && committing == 0 && marked) {
          Files.deleteIfExists(layout.unsyncedMarker());
          marked = false;
        }
      }
    }
  }

  private long pendingUpTo(Collection<LayerKey> keys) {
    synchronized (lock) {
      long max = 0;
      if (!unsynced.isEmpty()) {
        for (LayerKey k : keys) {
          max = Math.max(max, unsynced.getOrDefault(k, 0L));
        }
      }
      return max;
    }
  }

  /**
   * At start, before the scan: when the last run left entries unsynced, syncs them now; if the
   * machine rebooted since, returns the time from which entries may be torn (the scan checks
   * those). The caller calls {@link #recovered} once the scan dealt with them.
   */
  static Optional<Instant> recover(StoreLayout layout) throws IOException {
    Path marker = layout.unsyncedMarker();
    if (!Files.isRegularFile(marker)) {
      return Optional.empty();
    }
    FileSystemSync.syncFileSystemOf(layout.root());
    String boot = "";
    Instant since = Instant.EPOCH;
    try {
      JsonNode m = JSON.readTree(marker.toFile());
      boot = m.path("boot_id").asText("");
      since = Instant.parse(m.path("since").asText());
    } catch (IOException | RuntimeException e) {
      log.warn("unreadable {} ({}): every entry is checked", marker, e.getMessage());
    }
    if (!boot.isEmpty() && bootId().filter(boot::equals).isPresent()) {
      // Same boot: the process died, the page cache did not; the sync above made it durable.
      Files.deleteIfExists(marker);
      return Optional.empty();
    }
    Instant from = since.minusSeconds(SLACK_SECONDS);
    log.warn("the machine restarted while store entries were unsynced: entries changed since "
        + "{} are checked before use", from);
    return Optional.of(from);
  }

  /** After the scan checked what {@link #recover} asked for: durable, then the marker goes. */
  static void recovered(StoreLayout layout) throws IOException {
    FileSystemSync.syncFileSystemOf(layout.root());
    Files.deleteIfExists(layout.unsyncedMarker());
  }

  private static Optional<String> bootId() {
    try {
      return Optional.of(Files.readString(BOOT_ID).trim()).filter(s -> !s.isEmpty());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
