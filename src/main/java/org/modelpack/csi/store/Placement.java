package org.modelpack.csi.store;

import java.nio.file.Path;
import org.modelpack.csi.unpack.SafeDirs;

/**
 * One layer for one volume: which layer, and where its files go.
 *
 * @param volumeId the volume that will reference the entry
 * @param layer the layer and how to store it
 * @param modelDirs the volume's model directory, shared by the placements of one pull so a
 *     directory is checked once, not once per file
 * @param path a raw layer's file path in the model directory; ignored for a tar layer
 * @param privateCopy a writable volume's own copies instead of links to the shared entry
 */
public record Placement(String volumeId, LayerRequest layer, SafeDirs modelDirs, String path,
    boolean privateCopy) {

  /** A placement of its own (no other placement shares its directory checks). */
  public Placement(String volumeId, LayerRequest layer, Path modelDir, String path,
      boolean privateCopy) {
    this(volumeId, layer, new SafeDirs(modelDir), path, privateCopy);
  }

  public Path modelDir() {
    return modelDirs.root();
  }
}
