package org.modelpack.csi.store;

import java.time.Instant;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * A request for one layer.
 *
 * @param format how to turn the blob into the entry (RAW → blob, tar variants → tree)
 * @param size the descriptor's size, for space decisions before downloading
 * @param executable whether a raw blob's file is executable (0555 instead of 0444)
 * @param mtime modification time for a raw blob's file, or null. The file is shared by every
 *     volume, so the first ingest decides it.
 */
public record LayerRequest(String digest, LayerFormat format, long size, boolean executable,
    Instant mtime) {
  /** A request without a modification time to apply. */
  public LayerRequest(String digest, LayerFormat format, long size, boolean executable) {
    this(digest, format, size, executable, null);
  }

  public LayerKey key() {
    return new LayerKey(digest, format == LayerFormat.RAW ? EntryKind.BLOB : EntryKind.TREE);
  }
}
