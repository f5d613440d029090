package org.modelpack.csi.unpack;

import java.io.IOException;
import java.nio.file.Path;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * Extracts a verified tar layer into a fresh directory nobody else writes to (the store's
 * private extraction directory), by the entry policy of {@link TarEntryPlacer}
 * (docs/decisions/0203), keeping nothing per file in memory: whatever the file count, memory
 * stays bounded by the directories' metadata. Nothing is rolled back: on a failure the caller
 * deletes the directory.
 */
public final class FreshTreeExtractor {
  private FreshTreeExtractor() {}

  /**
   * Hard links are checked against the regular files already in {@code freshRoot}, which can
   * only be this layer's.
   *
   * @param blobFile the verified layer blob
   * @param format TAR, TAR_GZIP or TAR_ZSTD
   * @param freshRoot an empty directory (must exist) nobody else writes to; on a failure it
   *     keeps what earlier entries placed (and perhaps a temporary file), never the entry that
   *     failed, and the caller deletes it
   * @param layerDigest used in error messages
   * @param budget how far the layer may expand (docs/decisions/0820)
   * @return the number of regular files created, including hard links
   * @throws MalformedLayerException the blob is not a valid archive of {@code format}
   * @throws ExpansionLimitException the layer expands beyond {@code budget}
   * @throws UnsafePathException an entry name or link would leave or write through unsafe ground
   */
  public static long extract(Path blobFile, LayerFormat format, Path freshRoot,
      String layerDigest, ExpansionBudget budget) throws IOException {
    return new TarEntryPlacer(freshRoot, layerDigest, budget).placeAll(blobFile, format);
  }
}
