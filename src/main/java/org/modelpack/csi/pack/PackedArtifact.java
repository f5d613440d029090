package org.modelpack.csi.pack;

import java.nio.file.Path;
import java.util.List;

/**
 * A model packed on disk, ready to push.
 *
 * @param blobs every blob (layers and config) as a file with its digest
 * @param manifest the manifest JSON (small, so held in memory)
 */
public record PackedArtifact(List<Blob> blobs, byte[] manifest, String manifestMediaType) {
  public PackedArtifact {
    blobs = List.copyOf(blobs);
  }

  public record Blob(Path file, String digest, long size) {}
}
