package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;

/**
 * {@link VolumeLayers} kept as one {@code layers.json} per volume directory, with the references
 * held in the store's index.
 */
final class VolumeRecordFiles implements VolumeLayers {
  private static final ObjectMapper JSON = Json.mapper();

  private final StoreIndex index;
  private final UnsyncedEntries unsynced;
  private final Runnable afterRelease;

  /** {@code afterRelease} runs after a volume let go of its entries (the eviction check). */
  VolumeRecordFiles(StoreIndex index, UnsyncedEntries unsynced, Runnable afterRelease) {
    this.index = index;
    this.unsynced = unsynced;
    this.afterRelease = afterRelease;
  }

  /**
   * First makes every entry the record names durable (one syncfs for all the pull's entries,
   * and for those another pull committed and this one reused: decision 1220), so a record, and
   * the mount that follows it, never names an entry a power cut could tear. The record itself
   * is not fsynced: lost to a power cut it only costs dedup bookkeeping (the volume's own hard
   * links keep its files whole), while an fsync would sit on every publish's path.
   */
  @Override
  public void recordVolume(Path volumeDir, VolumeRecord record) throws IOException {
    unsynced.awaitDurable(record.layers().stream().map(VolumeRecord.Layer::key).toList());
    FileTrees.writeAtomically(volumeDir.resolve(VolumeRecord.FILE), JSON.writeValueAsBytes(record),
        false);
    index.reference(record);
  }

  /** See {@link PlacedTreeCheck}. */
  @Override
  public Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException {
    Path file = volumeDir.resolve(VolumeRecord.FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of("it has no " + VolumeRecord.FILE);
    }
    VolumeRecord record;
    try {
      record = JSON.readValue(file.toFile(), VolumeRecord.class);
    } catch (IOException e) {
      return Optional.of(file + " is unreadable: " + e.getMessage());
    }
    if (manifestDigest != null && !manifestDigest.equals(record.manifestDigest())) {
      return Optional.of(file + " names manifest " + record.manifestDigest() + ", not "
          + manifestDigest);
    }
    var entries = index.lookup(record.layers().stream().map(VolumeRecord.Layer::key).toList());
    return PlacedTreeCheck.mismatch(record, modelDir, entries::get);
  }

  @Override
  public void releaseVolume(String volumeId) {
    index.release(volumeId);
    afterRelease.run();
  }
}
