package org.modelpack.csi.pull;

import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.oci.Descriptor;

/**
 * What to do with one manifest layer.
 *
 * @param path the file path for a raw layer (null for tar layers, whose entries name themselves)
 * @param metadata mode/mtime from the file-metadata annotation, or null
 */
public record LayerPlan(int index, Descriptor layer, LayerFormat format, String path,
    FileMetadata metadata) {

  public String describe() {
    return "layer " + index + " (" + layer.digest() + (path == null ? "" : ", " + path) + ")";
  }
}
