package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** What each volume uses from the store: its record, the check of its files, its release. */
public interface VolumeLayers {
  /**
   * Persists the volume's record (one atomic write per pull) and notes its use of the entries
   * it names.
   */
  void recordVolume(Path volumeDir, VolumeRecord record) throws IOException;

  /**
   * What keeps the volume's model directory from being mounted as its record says, or empty
   * when every recorded file is there.
   */
  Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException;

  /** Drops every reference {@code volumeId} holds; its entries stay as warm cache. */
  void releaseVolume(String volumeId);
}
