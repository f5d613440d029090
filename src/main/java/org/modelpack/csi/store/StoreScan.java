package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.fs.TempFiles;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the index after a restart: the store's directories name their digests, and each
 * volume's {@code layers.json} names what it uses. Anything unreadable or stale is dropped with a
 * warning; nothing here fails the start.
 */
final class StoreScan {
  private static final Logger log = LoggerFactory.getLogger(StoreScan.class);
  private static final ObjectMapper JSON = Json.mapper();
  private static final Map<String, Pattern> HEX = Map.of(
      "sha256", Pattern.compile("[a-f0-9]{64}"), "sha512", Pattern.compile("[a-f0-9]{128}"));

  record Scanned(StoreEntry entry, Instant lastUsed) {}

  record Result(Map<LayerKey, Scanned> entries, Map<LayerKey, Set<String>> references) {}

  private final StoreLayout layout;
  private final Path volumesDir;

  StoreScan(StoreLayout layout, Path volumesDir) {
    this.layout = layout;
    this.volumesDir = volumesDir;
  }

  Result run() throws IOException {
    Dirs.create(layout.root(), Dirs.PRIVATE);
    for (Path dir : layout.subdirectories()) {
      Dirs.own(dir, Dirs.PRIVATE);
    }
    clearIngest();
    clearQuarantine();
    Optional<Instant> tornSince = UnsyncedEntries.recover(layout);
    for (Path dir : List.of(layout.blobs(), layout.trees(), layout.manifests())) {
      try (DirectoryStream<Path> algs = Files.newDirectoryStream(dir)) {
        for (Path alg : algs) {
          if (HEX.containsKey(alg.getFileName().toString())) {
            Dirs.own(alg, Dirs.PRIVATE);
          }
        }
      }
    }
    sweepTemporaryFiles();
    Map<LayerKey, Scanned> entries = new HashMap<>();
    scanBlobs(entries, tornSince);
    scanTrees(entries, tornSince);
    if (tornSince.isPresent()) {
      UnsyncedEntries.recovered(layout);
    }
    Map<LayerKey, Set<String>> refs = new HashMap<>();
    scanVolumeRecords(entries, refs);
    return new Result(entries, refs);
  }

  /**
   * Leftovers of downloads, extractions and evictions that a crash interrupted, but for the
   * partial downloads the next try goes on from (decision 1250).
   */
  private void clearIngest() throws IOException {
    PartialFiles.clearAtStart(layout.ingest());
  }

  /** Entries moved aside at the last run; they were kept for a look until now. */
  private void clearQuarantine() throws IOException {
    try (DirectoryStream<Path> items = Files.newDirectoryStream(layout.quarantine())) {
      for (Path p : items) {
        log.info("deleting quarantined {}", p);
        ReadOnly.makeDeletable(p);
        FileTrees.delete(p);
      }
    }
  }

  /** Temporary files of record and metadata writes that a crash interrupted. */
  private void sweepTemporaryFiles() throws IOException {
    int removed = TempFiles.sweep(layout.refs()) + TempFiles.sweep(layout.root());
    for (Path dir : List.of(layout.trees(), layout.manifests())) {
      for (String alg : HEX.keySet()) {
        removed += TempFiles.sweep(dir.resolve(alg));
      }
    }
    if (removed > 0) {
      log.info("removed {} temporary files left by an interrupted write", removed);
    }
  }

  /**
   * @param tornSince after a reboot with entries unsynced: blobs changed since then are hashed
   *     again (a power cut may have lost their pages), those that do not match quarantined
   */
  private void scanBlobs(Map<LayerKey, Scanned> entries, Optional<Instant> tornSince)
      throws IOException {
    forEachDigest(layout.blobs(), (alg, name, path) -> {
      // One stat per blob: type, owner, mode, size and ctime (which moves whenever the inode
      // gets linked into a volume: a fair "last used" after a restart).
      Map<String, Object> attrs = Files.readAttributes(path,
          "unix:size,ctime," + EntryTrust.BLOB_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
      Optional<String> problem = EntryTrust.blobProblem(attrs);
      if (problem.isPresent()) {
        EntryTrust.quarantine(layout, path, problem.get());
        return;
      }
      LayerKey key = new LayerKey(alg + ":" + name, EntryKind.BLOB);
      Instant ctime = ((FileTime) attrs.get("ctime")).toInstant();
      if (tornSince.isPresent() && !ctime.isBefore(tornSince.get())
          && !EntryTrust.hashesTo(path, key.digest())) {
        EntryTrust.quarantine(layout, path, "torn by a restart before it was synced");
        return;
      }
      entries.put(key, new Scanned(new StoreEntry(key, path, (Long) attrs.get("size")), ctime));
    });
  }

  /**
   * @param tornSince after a reboot with entries unsynced: trees put in place since then are
   *     dropped (a tree has no digest of its files to check them against)
   */
  private void scanTrees(Map<LayerKey, Scanned> entries, Optional<Instant> tornSince)
      throws IOException {
    forEachDigest(layout.trees(), (alg, name, path) -> {
      if (name.endsWith(".json")) {
        String hex = name.substring(0, name.length() - 5);
        if (!Files.isDirectory(path.resolveSibling(hex), LinkOption.NOFOLLOW_LINKS)) {
          Files.deleteIfExists(path); // written before its tree, which never arrived
        }
        return;
      }
      LayerKey key = new LayerKey(alg + ":" + name, EntryKind.TREE);
      Path meta = layout.treeMeta(key);
      Optional<String> problem = EntryTrust.treeProblem(path, meta);
      if (problem.isEmpty() && tornSince.isPresent()
          && !changedBefore(path, tornSince.get())) {
        problem = Optional.of("put in place before a restart, and not synced");
      }
      if (problem.isPresent()) {
        // Incomplete, or not the driver's: either way never served.
        EntryTrust.quarantine(layout, path, problem.get());
        if (Files.exists(meta, LinkOption.NOFOLLOW_LINKS)) {
          EntryTrust.quarantine(layout, meta, problem.get());
        }
        return;
      }
      long size;
      try {
        size = JSON.readTree(meta.toFile()).path("size").asLong(-1);
      } catch (IOException e) {
        size = -1;
      }
      if (size < 0) {
        log.warn("removing tree entry {} with unreadable metadata", path);
        ReadOnly.makeDeletable(path);
        FileTrees.delete(path);
        Files.deleteIfExists(meta);
        return;
      }
      entries.put(key, new Scanned(new StoreEntry(key, path, size),
          Files.getLastModifiedTime(meta).toInstant()));
    });
  }

  private static boolean changedBefore(Path path, Instant when) throws IOException {
    FileTime ctime = (FileTime) Files.getAttribute(path, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
    return ctime.toInstant().isBefore(when);
  }

  private void scanVolumeRecords(Map<LayerKey, Scanned> entries,
      Map<LayerKey, Set<String>> refs) throws IOException {
    if (!Files.isDirectory(volumesDir)) {
      return;
    }
    try (DirectoryStream<Path> vols = Files.newDirectoryStream(volumesDir)) {
      for (Path vol : vols) {
        Path file = vol.resolve(VolumeRecord.FILE);
        if (!Files.isRegularFile(file)) {
          continue;
        }
        VolumeRecord record;
        try {
          record = JSON.treeToValue(JSON.readTree(file.toFile()), VolumeRecord.class);
          if (record == null || record.volumeId() == null) {
            throw new IOException("no volume_id");
          }
        } catch (IOException | RuntimeException e) {
          log.warn("dropping corrupt volume record {}: {}", file, e.getMessage());
          continue;
        }
        if (!record.volumeId().equals(vol.getFileName().toString())) {
          log.warn("dropping volume record {}: it names volume {}", file, record.volumeId());
          continue;
        }
        for (VolumeRecord.Layer layer : record.layers()) {
          Scanned s = entries.get(layer.key());
          if (s == null) {
            log.warn("volume record {} names {} which the store no longer has", file,
                layer.key());
            continue;
          }
          refs.computeIfAbsent(layer.key(), k -> new HashSet<>()).add(record.volumeId());
          if (record.completedAt() != null && record.completedAt().isAfter(s.lastUsed())) {
            entries.put(layer.key(), new Scanned(s.entry(), record.completedAt()));
          }
        }
      }
    }
  }

  private interface DigestVisitor {
    void visit(String algorithm, String name, Path path) throws IOException;
  }

  private static void forEachDigest(Path dir, DigestVisitor visitor) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> algs = Files.newDirectoryStream(dir)) {
      for (Path algDir : algs) {
        String alg = algDir.getFileName().toString();
        Pattern hex = HEX.get(alg);
        if (hex == null || !Files.isDirectory(algDir)) {
          log.warn("ignoring unexpected {} in the store", algDir);
          continue;
        }
        try (DirectoryStream<Path> items = Files.newDirectoryStream(algDir)) {
          for (Path item : items) {
            String name = item.getFileName().toString();
            String bare = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
            if (!hex.matcher(bare).matches()) {
              log.warn("ignoring unexpected {} in the store", item);
              continue;
            }
            visitor.visit(alg, name, item);
          }
        }
      }
    }
  }
}
